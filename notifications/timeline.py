"""The order timeline's entries of mail: written through orders.events (the one writer), said
in words here (NotificationsConfig.ready registers `mail_event_text`)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from notifications.models import MailState, OutgoingMail
from notifications.reasons import hold_reason_text
from orders import events
from orders.models import OrderEvent


def entry(row: OutgoingMail, outcome: str, *, reply: str | None = None) -> OrderEvent | None:
    """The (unsaved) timeline entry of what became of a mail of an order; None without one."""
    if row.order_id is None or row.tenant_id is None:
        return None
    return events.mail_outcome(
        tenant_id=row.tenant_id,
        order_id=row.order_id,
        mail_id=row.pk,
        outcome=outcome,
        to=row.to_address,
        subject=row.subject,
        at=timezone.now(),
        reason=row.hold_reason or None if outcome == MailState.HELD else None,
        reply=reply,
    )


def record_queued(row: OutgoingMail) -> None:
    """A new row of an order: "written" or "held back" (with the reason)."""
    built = entry(row, MailState.HELD if row.state == MailState.HELD else MailState.QUEUED)
    if built is not None:
        events.record(built)


def record_outcome(row: OutgoingMail, outcome: str, *, reply: str = "") -> None:
    built = entry(row, outcome, reply=reply or None)
    if built is not None:
        events.record(built)


def mail_event_text(event: OrderEvent) -> str:
    """The sentence of a `mail` timeline entry, in the active language."""
    data = event.data or {}
    values = {"to": data.get("to", ""), "subject": data.get("subject", "")}
    outcome = data.get("outcome")
    if outcome == MailState.QUEUED:
        return _("E-mail “%(subject)s” to %(to)s is waiting to be sent.") % values
    if outcome == MailState.SENT:
        return _("E-mail “%(subject)s” sent to %(to)s.") % values
    if outcome == MailState.HELD:
        return _("E-mail “%(subject)s” to %(to)s held back: %(reason)s") % {
            **values,
            "reason": hold_reason_text(data.get("reason", "")),
        }
    if outcome == MailState.FAILED:
        return _("E-mail “%(subject)s” to %(to)s could not be sent. The server said: %(reply)s") % {
            **values,
            "reply": data.get("reply", "—"),
        }
    return events.fallback(event)
