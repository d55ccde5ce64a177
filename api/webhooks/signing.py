"""The signature of a webhook request: ``v1=`` and the hex HMAC-SHA256, keyed by the
subscription's secret, of ``"<timestamp>.<body>"`` (docs/api/webhooks.md shows how a receiver
checks it)."""

from __future__ import annotations

import hashlib
import hmac


def signature(secret: str, timestamp: int, body: bytes) -> str:
    message = str(timestamp).encode() + b"." + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
