"""The template editor's live preview and its "send test to me", on one of the tenant's orders.

The preview renders what is typed (not yet saved) with the safe renderer; it writes nothing.
The test mail is an outbox row (kind TEST) to the logged-in user, never to the buyer, so it is
neither held by the category guard nor on the order's timeline.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext as _

from core.models import Tenant
from core.renderer import render, render_html, values_for
from core.variables import Context, Objects
from notifications.customer_mail import extra_values
from notifications.models import MailKind, OutgoingMail, TemplateSet
from notifications.outbox import queue_mail
from notifications.template_sets import check_template, example_values
from notifications.tracking import shipments_of
from orders.models import Order

PREVIEW_ORDERS = 20


class PreviewError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass
class Preview:
    subject: str = ""
    text: str = ""
    html: str | None = None
    order: Order | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def orders_to_preview(tenant: Tenant) -> list[Order]:
    """The tenant's latest orders, the choices of the preview."""
    return list(
        Order.objects.filter(tenant=tenant)
        .select_related("channel")
        .order_by("-bought_at", "-id")[:PREVIEW_ORDERS]
    )


def _order(tenant: Tenant, order_id: str) -> Order | None:
    orders = Order.objects.filter(tenant=tenant).select_related("channel", "status", "tenant")
    if order_id.isdigit():
        found = orders.filter(pk=int(order_id)).first()
        if found is not None:
            return found
    return orders.order_by("-bought_at", "-id").first()


def preview(
    tenant: Tenant,
    template_set: TemplateSet,
    *,
    subject: str,
    body_text: str,
    body_html: str,
    order_id: str,
) -> Preview:
    """The typed template on the chosen order (or the latest one; the examples without any)."""
    errors = check_template(
        trigger="", status=None, subject=subject, body_text=body_text, body_html=body_html
    )
    if errors:
        return Preview(errors=errors)
    order = _order(tenant, order_id)
    if order is None:
        values = example_values()
    else:
        # The preview shows the customer zone link only if the order already has one.
        shipments = shipments_of(order)
        with translation.override(template_set.language):
            values = values_for(
                Objects(
                    order=order,
                    shipment=shipments[-1] if shipments else None,
                    extra=extra_values(order, shipments[-1] if shipments else None),
                ),
                Context.ORDER_MESSAGE,
            )
    return Preview(
        subject=" ".join(render(subject, values).split()),
        text=render(body_text, values),
        html=render_html(body_html, values) if body_html.strip() else None,
        order=order,
    )


def send_test(
    tenant: Tenant,
    template_set: TemplateSet,
    user: User,
    *,
    subject: str,
    body_text: str,
    body_html: str,
    order_id: str,
) -> OutgoingMail:
    """Queue the typed template, rendered on the chosen order, to the logged-in user."""
    result = preview(
        tenant,
        template_set,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        order_id=order_id,
    )
    if result.errors:
        raise PreviewError(_("Correct the template first; the test was not sent."))
    if not user.email:
        raise PreviewError(_("Your account has no e-mail address."))
    if not result.subject or not result.text.strip():
        raise PreviewError(_("The subject or the body is empty for this order."))
    mailbox = result.order.channel.mailbox if result.order is not None else None
    return queue_mail(
        tenant=tenant,
        to=user.email,
        subject=_("[Test] %(subject)s") % {"subject": result.subject},
        text=result.text,
        html=result.html,
        mailbox=mailbox,
        kind=MailKind.TEST,
        language=template_set.language,
    )
