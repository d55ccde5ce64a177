"""Sending one delivery (docs/adr/0011-webhooks.md). Owns the writes of ``WebhookDelivery``'s
state and of ``WebhookAttempt``.

A row moves PENDING → SENDING → DELIVERED, or back to PENDING with a later ``next_attempt_at``
(exponential backoff with jitter) while it is younger than ``WEBHOOK_RETRY_FOR_SECONDS``, then
FAILED.

1. Claim: one UPDATE, outside any transaction, takes a due row (pending and due, or SENDING
   whose lease ran out: its sender died) and sets SENDING, a lease and attempts + 1.
2. Check the address again and POST the stored body, signed, to the checked address; no
   transaction open, no redirect followed, short timeouts.
3. Record the attempt, and the outcome with an UPDATE conditional on our claim (SENDING, our
   attempt number), so a sender that outlived its lease cannot overwrite the one that took over.

A sender killed between the receiver's answer and step 3 leaves the row SENDING; after the
lease the sweeper sends it again with the same event id: at most one repeat, which the receiver
recognises by ``X-Apilo-Delivery``.
"""

from __future__ import annotations

import http.client
import logging
import random
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from api.models_webhooks import DeliveryState, WebhookAttempt, WebhookDelivery
from api.webhooks import addresses, signing, subscriptions
from api.webhooks.errors import WebhookError

logger = logging.getLogger("api.webhooks")

USER_AGENT = "apilo-webhooks/1"
# What is read of an answer (the rest is not needed; a connection whose answer is not read to
# the end is not reused).
MAX_ANSWER_BYTES = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    state: str  # the row's state after this call ("" when the row was not ours to send)
    retry_in: float | None = None


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` tries: doubling from the base up to the
    maximum, scaled by a random 50–100 % so that many rows failed together spread out."""
    base = float(settings.WEBHOOK_RETRY_BASE_SECONDS)
    delay = min(base * (2 ** max(0, attempts - 1)), float(settings.WEBHOOK_RETRY_MAX_SECONDS))
    return delay * random.uniform(0.5, 1.0)


# --------------------------------------------------------------------------- connections
class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to the address that was checked, whatever the host name resolves to now."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._ip = ip

    def connect(self) -> None:
        self.sock = socket.create_connection((self._ip, self.port), self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """The same over TLS; the certificate is checked against the host name."""

    def __init__(self, host: str, port: int, ip: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._ip = ip

    def connect(self) -> None:
        sock = socket.create_connection((self._ip, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]  # http.client's own context


Key = tuple[str, str, int, str]


class Connections:
    """The keep-alive connections of one process, one per (scheme, host, port, address);
    ``keep_alive=False`` opens one for every request (the benchmark's baseline)."""

    def __init__(self, keep_alive: bool = True) -> None:
        self.keep_alive = keep_alive
        self._open: dict[Key, http.client.HTTPConnection] = {}

    def post(self, target: addresses.Target, body: bytes, headers: dict[str, str]) -> int:
        """POST and return the status code (the answer read, at most MAX_ANSWER_BYTES)."""
        key = (target.scheme, target.host, target.port, target.ip)
        reused = key in self._open
        try:
            return self._post(key, target, body, headers)
        except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
            if not reused:
                raise
            # The receiver closed the idle connection before our request: once on a new one.
            return self._post(key, target, body, headers)

    def _post(
        self, key: Key, target: addresses.Target, body: bytes, headers: dict[str, str]
    ) -> int:
        connection = self._open.pop(key, None) or self._connect(target)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_ANSWER_BYTES)
        except BaseException:
            connection.close()
            raise
        if self.keep_alive and response.isclosed() and not response.will_close:
            self._open[key] = connection
        else:
            connection.close()
        return response.status

    def _connect(self, target: addresses.Target) -> http.client.HTTPConnection:
        timeout = float(settings.WEBHOOK_TIMEOUT_SECONDS)
        if target.scheme == "https":
            return _PinnedHTTPSConnection(target.host, target.port, target.ip, timeout)
        return _PinnedHTTPConnection(target.host, target.port, target.ip, timeout)

    def close(self) -> None:
        for connection in self._open.values():
            connection.close()
        self._open.clear()


# The worker process's connections (each prefork child has its own).
CONNECTIONS = Connections()


def headers_for(
    delivery: WebhookDelivery, secret: str, body: bytes, timestamp: int
) -> dict[str, str]:
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Apilo-Event": delivery.event_type,
        "X-Apilo-Delivery": str(delivery.event_id),
        "X-Apilo-Timestamp": str(timestamp),
        "X-Apilo-Signature": signing.signature(secret, timestamp, body),
    }


def post(delivery: WebhookDelivery, connections: Connections) -> Answer:
    """One attempt: the address checked again, the body signed now and posted."""
    started = time.monotonic()
    body = delivery.body.encode()
    subscription = delivery.subscription
    try:
        target = addresses.resolve(subscription.url)
        timestamp = int(time.time())
        headers = headers_for(delivery, subscription.secret, body, timestamp)
        status = connections.post(target, body, headers)
    except WebhookError as refusal:
        return Answer(None, refusal.code, _ms(started))
    except (OSError, http.client.HTTPException) as exc:
        return Answer(None, (f"{type(exc).__name__}: {exc}")[:300], _ms(started))
    return Answer(status, "", _ms(started))


def _ms(started: float) -> int:
    return max(0, round((time.monotonic() - started) * 1000))


# --------------------------------------------------------------------------- one delivery
def claim(delivery_id: int) -> WebhookDelivery | None:
    """Take the row for sending if it is due (one UPDATE); None if it is not ours to send."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.WEBHOOK_SEND_LEASE_SECONDS)
    with scopes_disabled():
        taken = (
            WebhookDelivery.objects.due(now)
            .filter(pk=delivery_id)
            .update(state=DeliveryState.SENDING, lease_until=lease, attempts=F("attempts") + 1)
        )
        if not taken:
            return None
        return WebhookDelivery.objects.select_related("subscription").get(pk=delivery_id)


def send(delivery_id: int, connections: Connections | None = None) -> Outcome:
    """Send one delivery if it is due; record what the receiver answered."""
    if transaction.get_connection().in_atomic_block:
        raise RuntimeError("Webhooks are sent outside any transaction (the receiver may be slow).")
    row = claim(delivery_id)
    if row is None:
        return Outcome("")
    started_at = timezone.now()
    answer = post(row, connections or CONNECTIONS)
    with scope(tenant=row.tenant_id):
        return _record(row, started_at, answer)


def _finish(row: WebhookDelivery, **fields: object) -> bool:
    """Write the outcome if the row is still ours (SENDING, our attempt). False otherwise."""
    fields["lease_until"] = None
    updated = WebhookDelivery.objects.filter(
        pk=row.pk, state=DeliveryState.SENDING, attempts=row.attempts
    ).update(**fields)
    return bool(updated)


def _record(row: WebhookDelivery, started_at: datetime, answer: Answer) -> Outcome:
    now = timezone.now()
    common = {"last_status_code": answer.status_code, "last_error": answer.error}
    with transaction.atomic():
        WebhookAttempt.objects.create(
            tenant_id=row.tenant_id,
            delivery=row,
            number=row.attempts,
            started_at=started_at,
            duration_ms=answer.duration_ms,
            status_code=answer.status_code,
            error=answer.error,
        )
        if answer.delivered:
            if _finish(row, state=DeliveryState.DELIVERED, delivered_at=now, **common):
                subscriptions.record_delivered(row.subscription_id)
            return Outcome(DeliveryState.DELIVERED)
        delay = backoff(row.attempts)
        age = (now - row.created_at).total_seconds()
        if age + delay <= settings.WEBHOOK_RETRY_FOR_SECONDS:
            _finish(
                row,
                state=DeliveryState.PENDING,
                next_attempt_at=now + timedelta(seconds=delay),
                **common,
            )
            said = answer.error or answer.status_code
            logger.info("webhook %s: try %s failed (%s)", row.pk, row.attempts, said)
            return Outcome(DeliveryState.PENDING, retry_in=delay)
        if _finish(row, state=DeliveryState.FAILED, **common):
            logger.warning("webhook %s failed after %s tries", row.pk, row.attempts)
            subscriptions.record_failed(row.subscription_id)
        return Outcome(DeliveryState.FAILED)


def due_ids(limit: int) -> list[tuple[int, int]]:
    """(tenant id, delivery id) of rows due for sending, oldest first (the sweeper's query)."""
    with scopes_disabled():
        return list(
            WebhookDelivery.objects.due(timezone.now())
            .order_by("next_attempt_at", "id")
            .values_list("tenant_id", "id")[:limit]
        )
