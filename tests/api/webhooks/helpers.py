"""A real HTTP receiver for webhook tests, and the receiver's side of the signature check
(the same steps docs/api/webhooks.md shows)."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django_scopes import scope, scopes_disabled

from api.models_webhooks import WebhookDelivery, WebhookSubscription
from api.webhooks import subscriptions
from core.models import Tenant

TOLERANCE_SECONDS = 300


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """True if the request was signed with ``secret`` within the tolerance."""
    timestamp = headers.get("X-Apilo-Timestamp", "")
    signature = headers.get("X-Apilo-Signature", "")
    if not timestamp.isdigit() or not signature.startswith("v1="):
        return False
    if abs((now or time.time()) - int(timestamp)) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return hmac.compare_digest(signature[3:], expected.hexdigest())


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next status of ``statuses`` (then 200); the first request
    waits for ``release`` when ``hold_first`` is set."""

    statuses: list[int] = field(default_factory=list)
    hold_first: bool = False
    requests: list[Received] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.requests) >= count:
                    return list(self.requests)
            time.sleep(0.05)
        raise AssertionError(f"the receiver got {len(self.requests)} requests, not {count}")


def serve(receiver: Receiver) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.requests.append(Received(dict(self.headers.items()), body))
                number = len(receiver.requests)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            if number == 1 and receiver.hold_first:
                receiver.release.wait(60)
            try:
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            except OSError:
                pass  # the sender is gone (killed)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/apilo?shop=1"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def subscribe(tenant: Tenant, url: str, events: list[str]) -> tuple[WebhookSubscription, str]:
    with scope(tenant=tenant):
        new = subscriptions.create_subscription(tenant, url=url, events=events, created_by=None)
    return new.subscription, new.secret


def deliveries_of(subscription: WebhookSubscription) -> list[WebhookDelivery]:
    with scopes_disabled():
        return list(
            WebhookDelivery.objects.filter(subscription=subscription).order_by("created_at", "id")
        )
