"""Reads of the send log: filtered, newest first, keyset pages by id."""

from __future__ import annotations

from dataclasses import dataclass

from notifications.models import OutgoingMail

PAGE_SIZE = 50


@dataclass(frozen=True)
class LogPage:
    rows: list[OutgoingMail]
    next_before: int | None  # the id to pass as ?before= for the next page


def mail_log(
    *,
    state: str = "",
    mailbox: str = "",
    order_number: str = "",
    to: str = "",
    before: int | None = None,
    size: int = PAGE_SIZE,
) -> LogPage:
    """The active tenant's mails (the scoped manager filters by tenant; platform mail has none
    and never shows), newest first, ``size`` at a time."""
    rows = OutgoingMail.objects.select_related("order").defer("text", "html")
    if state:
        rows = rows.filter(state=state)
    if mailbox == "platform":
        rows = rows.filter(sender="platform")
    elif mailbox.isdigit():
        rows = rows.filter(mailbox_id=int(mailbox))
    if order_number:
        rows = rows.filter(order__number__iexact=order_number.strip())
    if to:
        rows = rows.filter(to_address__icontains=to.strip())
    if before is not None:
        rows = rows.filter(id__lt=before)
    page = list(rows.order_by("-id")[: size + 1])
    more = len(page) > size
    page = page[:size]
    return LogPage(page, page[-1].pk if more and page else None)
