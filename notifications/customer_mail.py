"""Customer mails of the channel's template set, and the seller's new-order mail.

Called from notifications.receivers inside the transaction of the event that causes the mail
(an import, a status entry, a shipment), so each mail is an outbox row of that transaction
(queue_mail) and is sent after it commits. Exactly once: every mail has a dedupe key naming the
template (or the seller mail), the order and the event.

The category guard: for an Allegro channel, a template whose category Allegro forbids
(FORBIDDEN_ON_ALLEGRO) is queued HELD with the reason ALLEGRO_CATEGORY unless an administrator
allowed that category on that channel (CategoryAllowance). See docs/adr/0008.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import translation

from channels.models import SalesChannel
from core.mail import render_mail
from core.renderer import render, render_html, values_for
from core.variables import Context, Objects
from fulfillment.models import Shipment
from notifications import customer_zone, tracking
from notifications.models import (
    CategoryAllowance,
    HoldReason,
    MailKind,
    MessageTemplate,
    OutgoingMail,
    Trigger,
)
from notifications.outbox import queue_mail
from notifications.template_sets import is_forbidden_for
from orders.models import Order, OrderStatus

# --- What a template says for an order ------------------------------------------------------


def extra_values(order: Order, shipment: Any = None) -> dict[str, str]:
    """The variables only this floor can fill in: the customer zone link and tracking links."""
    extra = {
        "order.customer_zone_url": customer_zone.url_for(order),
        "order.tracking": "\n".join(
            " ".join(p for p in (s.carrier_label, s.waybill, tracking.url_for(s)) if p)
            for s in tracking.shipments_of(order)
        ),
    }
    if shipment is not None:
        extra["shipment.tracking_url"] = tracking.url_for(shipment)
    return extra


def render_template(
    template: MessageTemplate, order: Order, shipment: Any = None
) -> tuple[str, str, str | None]:
    """(subject, text, html or None) of a template for an order, in the set's language."""
    with translation.override(template.template_set.language):
        objects = Objects(order=order, shipment=shipment, extra=extra_values(order, shipment))
        values = values_for(objects, Context.ORDER_MESSAGE)
    subject = " ".join(render(template.subject, values).split())
    text = render(template.body_text, values)
    html = render_html(template.body_html, values) if template.body_html.strip() else None
    return subject, text, html


# --- Sending the set's templates ------------------------------------------------------------


def _templates(channel: SalesChannel, trigger: str) -> list[MessageTemplate]:
    set_id = channel.template_set_id
    if set_id is None:
        return []
    return list(
        MessageTemplate.objects.filter(
            tenant_id=channel.tenant_id, template_set_id=set_id, trigger=trigger, is_active=True
        )
        .select_related("template_set")
        .order_by("id")
    )


def hold_reason_for(channel: SalesChannel, category: str) -> str:
    """The category guard: why a mail of this category must not go to this channel's buyers."""
    if not is_forbidden_for(channel, category):
        return ""
    allowed = CategoryAllowance.objects.filter(
        tenant_id=channel.tenant_id, channel_id=channel.pk, category=category
    ).exists()
    return "" if allowed else HoldReason.ALLEGRO_CATEGORY


def queue_template_mail(
    template: MessageTemplate, order: Order, event: str, shipment: Any = None
) -> OutgoingMail | None:
    """One template's mail to the order's buyer (None: the order has no e-mail address)."""
    to = (order.buyer_email or "").strip()
    if not to:
        return None
    subject, text, html = render_template(template, order, shipment)
    hold = hold_reason_for(order.channel, template.category)
    if not subject or not text.strip():
        # Only a variable that is empty for this order can do this (the template itself was
        # checked on save): held, so the seller sees it on the timeline.
        hold = hold or HoldReason.EMPTY_RENDER
        subject = subject or template.name
        text = text if text.strip() else template.name
    return queue_mail(
        tenant=order.tenant,
        to=to,
        subject=subject,
        text=text,
        html=html,
        mailbox=order.channel.mailbox,
        order=order,
        kind=MailKind.CUSTOMER,
        category=template.category,
        hold_reason=hold,
        dedupe_key=f"template:{template.pk}:order:{order.pk}:{event}"[:200],
        language=template.template_set.language,
    )


def orders_imported(
    channel: SalesChannel, orders: Sequence[tuple[Order, bool]], backfill: bool
) -> None:
    """A batch of orders came from the channel: new ones get the seller's mail, their customer
    zone link and the set's "order imported" mails. Backfilled orders mail nobody."""
    new = [order for order, is_new in orders if is_new]
    if backfill or not new:
        return
    if channel.seller_notification_email:
        for order in new:
            queue_seller_mail(order)
    templates = _templates(channel, Trigger.ORDER_IMPORTED)
    for order in new:
        if channel.customer_zone:
            customer_zone.ensure_link(order)
        for template in templates:
            queue_template_mail(template, order, "imported")


def statuses_entered(changes: Iterable[tuple[Order, OrderStatus | None]]) -> None:
    """Orders entered statuses: the "status entered" templates of each order's channel.

    A new order's first status is its import (the "order imported" trigger), not an entry."""
    by_channel: dict[int, list[MessageTemplate]] = {}
    for order, previous in changes:
        if previous is None or previous.pk == order.status_id:
            continue
        channel = order.channel
        if channel.pk not in by_channel:
            by_channel[channel.pk] = _templates(channel, Trigger.STATUS_ENTERED)
        for template in by_channel[channel.pk]:
            if template.status_id == order.status_id:
                # The event: this order entering this status at this moment (a later entry of
                # the same status is a new mail; the same entry told twice is not).
                entered = order.updated_at.isoformat() if order.updated_at else ""
                queue_template_mail(
                    template, order, f"status:{order.status_id}:from:{previous.pk}:{entered}"
                )


def shipment_event(shipment: Shipment, trigger: str) -> None:
    """A shipment was added (or its label generated): the set's templates for that trigger."""
    order = shipment.order
    for template in _templates(order.channel, trigger):
        queue_template_mail(template, order, f"{trigger}:{shipment.pk}", shipment=shipment)


# --- The seller's mail ----------------------------------------------------------------------


def order_page_url(order: Order) -> str:
    return settings.SITE_URL + reverse(
        "orders:detail", kwargs={"tenant_slug": order.tenant.slug, "order_id": order.pk}
    )


def queue_seller_mail(order: Order) -> OutgoingMail:
    """The seller's mail about a new order: once per order, whatever imports it again. From
    the channel's mailbox (the seller's own server), else the platform's sender."""
    channel = order.channel
    subject, text, html = render_mail(
        "emails/notifications/seller_new_order",
        {
            "order": order,
            "channel": channel,
            "lines": list(order.lines.all()),
            "order_url": order_page_url(order),
        },
        language=settings.LANGUAGE_CODE,
    )
    return queue_mail(
        tenant=order.tenant,
        to=channel.seller_notification_email,
        subject=subject,
        text=text,
        html=html,
        mailbox=channel.mailbox,
        order=order,
        kind=MailKind.SELLER_NEW_ORDER,
        dedupe_key=f"seller-new-order:{order.pk}",
        language=settings.LANGUAGE_CODE,
    )
