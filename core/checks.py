"""System checks of core: no mail of the floors below notifications may be dropped."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register

from core.mail import outbox_connected


@register()
def mail_outbox_connected(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Account and re-authorization mail go through the outbox hook of core.mail: without a
    connected outbox they would raise at the first sign-up, so say it at start-up."""
    if outbox_connected():
        return []
    return [
        Error(
            "No mail outbox is connected to core.mail: account mails cannot be sent.",
            hint="Install the notifications app (it connects its outbox in ready()).",
            id="core.E010",
        )
    ]
