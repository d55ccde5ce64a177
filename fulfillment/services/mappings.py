"""Powiązania statusów (status mappings) and the per-channel fulfillment settings.

A status without a mapping row uses the default of its system code, so a new channel pushes
W realizacji → PROCESSING, Do wysłania → READY_FOR_SHIPMENT, Wysłane → SENT and Anulowane →
CANCELLED without anyone opening the page; saving the page writes a row for every status.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction
from django.utils.translation import gettext as _

from channels.models import SalesChannel
from channels.services.channels import set_import_status
from core.errors import UserError
from fulfillment.models import ChannelFulfillmentSettings, StatusMapping
from orders.models import OrderStatus, SettableFulfillment, SystemStatus

DEFAULTS: dict[str, str] = {
    SystemStatus.IN_PROGRESS: SettableFulfillment.PROCESSING,
    SystemStatus.READY_TO_SHIP: SettableFulfillment.READY_FOR_SHIPMENT,
    SystemStatus.SENT: SettableFulfillment.SENT,
    SystemStatus.CANCELLED: SettableFulfillment.CANCELLED,
}
# Statuses after which buyers can no longer cancel on Allegro (they can while it is NEW).
BLOCKS_BUYER_CANCEL = {SettableFulfillment.PROCESSING}


class MappingError(UserError, ValueError):
    """A mapping or setting the page never offers (its forms list only the tenant's statuses and
    Allegro's settable ones): a guard. Still a ValueError, as it always was."""


def default_for(status: OrderStatus) -> str:
    return DEFAULTS.get(status.system_code, "")


def mapped_targets(tenant_id: int, channel_id: int) -> dict[int, str]:
    """{status id: target} of the channel's stored mappings (statuses without a row use
    default_for)."""
    return dict(
        StatusMapping.objects.filter(tenant_id=tenant_id, channel_id=channel_id).values_list(
            "status_id", "fulfillment_status"
        )
    )


def mapping_of(channel: SalesChannel, statuses: list[OrderStatus]) -> dict[int, str]:
    """{status id: target} for every given status of the channel's tenant."""
    rows = dict(
        StatusMapping.objects.filter(tenant_id=channel.tenant_id, channel=channel).values_list(
            "status_id", "fulfillment_status"
        )
    )
    return {s.pk: rows.get(s.pk, default_for(s)) for s in statuses}


def save_mapping(channel: SalesChannel, targets: Mapping[int, str]) -> None:
    """Store the target of every given status (one row each; "" = none)."""
    valid = set(SettableFulfillment.values) | {""}
    statuses = {
        s.pk: s
        for s in OrderStatus.objects.filter(tenant_id=channel.tenant_id, pk__in=list(targets))
    }
    for status_id, target in targets.items():
        if status_id not in statuses or target not in valid:
            raise MappingError(_("Unknown status or fulfillment status."), code="mapping_unknown")
    with transaction.atomic():
        StatusMapping.objects.bulk_create(
            [
                StatusMapping(
                    tenant_id=channel.tenant_id,
                    channel=channel,
                    status_id=status_id,
                    fulfillment_status=target,
                )
                for status_id, target in sorted(targets.items())
            ],
            update_conflicts=True,
            unique_fields=["tenant", "channel", "status"],
            update_fields=["fulfillment_status"],
        )


def shipment_status_for(channel: SalesChannel) -> OrderStatus | None:
    """The status an order of the channel takes when a shipment is added (None: unchanged).
    Without settings: the tenant's "sent" status."""
    row = (
        ChannelFulfillmentSettings.objects.filter(tenant_id=channel.tenant_id, channel=channel)
        .select_related("shipment_status")
        .first()
    )
    if row is not None:
        status = row.shipment_status
        return status if status is None or status.is_active else None
    return OrderStatus.objects.filter(
        tenant_id=channel.tenant_id, system_code=SystemStatus.SENT, is_active=True
    ).first()


def save_shipment_status(channel: SalesChannel, status: OrderStatus | None) -> None:
    if status is not None and status.tenant_id != channel.tenant_id:
        raise MappingError(_("Unknown status."), code="status_unknown")
    ChannelFulfillmentSettings.objects.update_or_create(
        tenant_id=channel.tenant_id, channel=channel, defaults={"shipment_status": status}
    )


def save_import_status(channel: SalesChannel, status: OrderStatus | None) -> None:
    """The status new paid orders of the channel land in (SalesChannel.import_status, written by
    the channel's own service)."""
    if status is not None and status.tenant_id != channel.tenant_id:
        raise MappingError(_("Unknown status."), code="status_unknown")
    set_import_status(channel, status.pk if status is not None else None)
