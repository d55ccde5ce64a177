from __future__ import annotations

from core.errors import UserError


class WebhookError(UserError):
    """A refused change of a webhook subscription."""
