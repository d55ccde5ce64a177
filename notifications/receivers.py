"""The hooks of the floors below that the outbox answers (NotificationsConfig.ready connects
them)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django_scopes import scope

from channels.models import SalesChannel
from core.mail import PlatformMail
from core.models import Tenant
from fulfillment.models import Shipment
from notifications import customer_mail
from notifications.models import OutgoingMail, Trigger
from notifications.outbox import queue_mail
from notifications.template_sets import seed_default_sets
from orders.models import Order, OrderStatus


def write_platform_mail(mail: PlatformMail) -> OutgoingMail:
    """core.mail's outbox hook: account and re-authorization mail, from the platform's sender,
    in the caller's transaction."""
    if mail.tenant is None:
        return _write(mail)
    # Sign-up and invitations run before or beside a request's scope: enter the company's.
    with scope(tenant=mail.tenant):
        return _write(mail)


def _write(mail: PlatformMail) -> OutgoingMail:
    return queue_mail(
        tenant=mail.tenant,
        to=mail.to,
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
        kind=mail.kind,
        language=mail.language,
        dedupe_key=mail.dedupe_key,
    )


def seed_template_sets_of_new_tenant(sender: Any, tenant: Tenant, **kwargs: Any) -> None:
    """core.signals.tenant_created: a new company starts with the default sets (pl, en)."""
    seed_default_sets(tenant)


def mail_about_imported_orders(
    sender: Any,
    channel: SalesChannel,
    orders: Sequence[tuple[Order, bool]],
    backfill: bool,
    **kwargs: Any,
) -> None:
    """orders.signals.orders_imported: the seller's new-order mail, the customer zone links and
    the "order imported" mails, in the import's transaction."""
    customer_mail.orders_imported(channel, orders, backfill)


def mail_about_status_entries(
    sender: Any, changes: Sequence[tuple[Order, OrderStatus | None]], **kwargs: Any
) -> None:
    """orders.signals.statuses_entered: the "status entered" mails, in the change's transaction."""
    customer_mail.statuses_entered(changes)


def mail_about_shipment(sender: Any, shipment: Shipment, **kwargs: Any) -> None:
    """fulfillment.signals.shipment_added: the "shipment added" mails."""
    customer_mail.shipment_event(shipment, Trigger.SHIPMENT_ADDED)


def mail_about_label(sender: Any, shipment: Shipment | None, **kwargs: Any) -> None:
    """fulfillment.signals.label_generated: the "label generated" mails."""
    if shipment is not None:  # a label always has a waybill; nothing to tell without one
        customer_mail.shipment_event(shipment, Trigger.LABEL_GENERATED)
