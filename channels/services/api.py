"""Calling the Allegro REST API on behalf of a channel: the token dance around the client.

``call()`` (and ``on_behalf()``, for the client's typed endpoints) gets a valid token
(refreshing when due), makes the call, and on a 401 refreshes once (single-flight) and
retries; a second 401 means the grant is dead and the account moves to
"re-authorization needed". A successful call records ``last_contact_at`` (at most once a minute
per channel, so a busy account does not write on every call).

``call_batch()`` is for a worker making many calls in a row (the push sender): inside it, each
channel's token is read once and the contact recorded once, when the block ends.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

from django.db.models import Q
from django.utils import timezone

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroResponse,
    AllegroUnauthorized,
)
from channels.models import SalesChannel
from channels.services.tokens import (
    AccessToken,
    client_for,
    get_access_token,
    mark_needs_reauth,
    refresh_access_token,
)

CONTACT_RESOLUTION = timedelta(seconds=60)
# A token kept by call_batch() is read again when it has less than this left.
BATCH_TOKEN_MIN_VALIDITY = timedelta(seconds=60)

T = TypeVar("T")


@dataclass
class _CallBatch:
    tokens: dict[int, AccessToken] = field(default_factory=dict)
    contacted: set[int] = field(default_factory=set)


_current_batch: ContextVar[_CallBatch | None] = ContextVar("apilo_call_batch", default=None)


@contextmanager
def call_batch() -> Iterator[None]:
    """Calls made inside the block share one token read per channel (a 401 still refreshes, and
    the new token is shared) and record the contact once per channel when the block ends."""
    batch = _CallBatch()
    reset = _current_batch.set(batch)
    try:
        yield
    finally:
        _current_batch.reset(reset)
    for channel_id in sorted(batch.contacted):
        record_contact(channel_id)


def _token_for(channel_id: int, client: AllegroClient, batch: _CallBatch | None) -> AccessToken:
    token = batch.tokens.get(channel_id) if batch else None
    if token is None or token.expires_at - timezone.now() < BATCH_TOKEN_MIN_VALIDITY:
        token = get_access_token(channel_id, client=client)
        if batch is not None:
            batch.tokens[channel_id] = token
    return token


def call(
    channel: SalesChannel,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    client: AllegroClient | None = None,
) -> AllegroResponse:
    """One API call for the channel. Raises the client's error classes (AllegroAuthRevoked when
    the account needs re-authorization). Must not run inside a transaction."""
    return on_behalf(
        channel, AllegroClient.request, method, path, params=params, json=json, client=client
    )


def on_behalf(
    channel: SalesChannel,
    endpoint: Callable[..., T],
    *args: Any,
    client: AllegroClient | None = None,
    **kwargs: Any,
) -> T:
    """Call one of the client's endpoints (``AllegroClient.set_fulfillment_status``, …) for the
    channel: its token and log context are passed in, a 401 refreshes once. As ``call()``."""
    client = client or client_for(channel)
    context = {"tenant": channel.tenant_id, "channel": channel.pk}
    batch = _current_batch.get()
    token = _token_for(channel.pk, client, batch)
    try:
        result = endpoint(client, *args, access_token=token.value, log_context=context, **kwargs)
    except AllegroUnauthorized:
        if batch is not None:
            batch.tokens.pop(channel.pk, None)
        token = refresh_access_token(
            channel.pk, seen_version=token.version, force=True, client=client
        )
        if batch is not None:
            batch.tokens[channel.pk] = token
        try:
            result = endpoint(
                client, *args, access_token=token.value, log_context=context, **kwargs
            )
        except AllegroUnauthorized as exc:
            if batch is not None:
                batch.tokens.pop(channel.pk, None)
            mark_needs_reauth(channel.pk, reason=f"401 {exc.code} after a refresh".strip())
            raise AllegroAuthRevoked(
                "Allegro keeps answering 401", status=exc.status, code=exc.code
            ) from None
    if batch is not None:
        batch.contacted.add(channel.pk)
    else:
        record_contact(channel.pk)
    return result


def record_contact(channel_id: int) -> None:
    """Remember the last successful contact with Allegro (one write a minute at most)."""
    now = timezone.now()
    SalesChannel.objects.filter(pk=channel_id).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=now - CONTACT_RESOLUTION)
    ).update(last_contact_at=now)
