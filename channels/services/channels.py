"""Creating, editing, deactivating and deleting sales channels, and the status their new paid
orders start in. Views and the services above call these; nothing else writes a SalesChannel's
settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models.deletion import ProtectedError
from django.utils.translation import gettext as _

from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.locking import lock_channel
from core.errors import UserError
from core.models import Tenant, TenantOwnedModel

# Fields an administrator edits in the channel form.
SETTINGS_FIELDS = (
    "name",
    "alias",
    "allegro_login",
    "pass_shipment_info",
    "customer_zone",
    "template_set",
    "mailbox",
    "seller_notification_email",
    "default_shipment_comment",
    "allegro_environment",
    "backfill_days",
)


class DuplicateAlias(UserError):
    """Another channel of the tenant has this alias (the race the form check cannot see); the
    same words and code as the form's own check."""

    def __init__(self, alias: str) -> None:
        super().__init__(
            _("Another sales channel already uses the alias %(alias)s. Choose other letters.")
            % {"alias": alias},
            code="duplicate_alias",
            field="alias",
        )


@transaction.atomic
def create_channel(*, tenant: Tenant, data: dict[str, Any]) -> SalesChannel:
    channel = SalesChannel(tenant=tenant, **{k: data[k] for k in SETTINGS_FIELDS if k in data})
    channel.alias = channel.alias.upper()
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        if "saleschannel_tenant_alias" in str(exc):
            raise DuplicateAlias(channel.alias) from None
        raise
    return channel


@dataclass(frozen=True)
class UpdateResult:
    channel: SalesChannel
    disconnected: bool  # the environment changed, so the old authorization was dropped


@transaction.atomic
def update_channel(*, channel_id: int, data: dict[str, Any]) -> UpdateResult:
    """Save the form's settings. Only a change of environment drops the authorization (tokens
    of one environment are worthless in another); the Allegro login cannot change once
    connected (the form does not offer it)."""
    channel = lock_channel(channel_id)
    previous_environment = channel.allegro_environment
    for name in SETTINGS_FIELDS:
        if name in data:
            setattr(channel, name, data[name])
    channel.alias = channel.alias.upper()
    disconnected = False
    if channel.allegro_environment != previous_environment and (
        channel.connection_state != ConnectionState.NOT_CONNECTED or channel.connected_seller_id
    ):
        _disconnect(channel)
        disconnected = True
    try:
        with transaction.atomic():
            channel.save()
    except IntegrityError as exc:
        if "saleschannel_tenant_alias" in str(exc):
            raise DuplicateAlias(channel.alias) from None
        raise
    return UpdateResult(channel=channel, disconnected=disconnected)


def _disconnect(channel: SalesChannel) -> None:
    AllegroCredential.objects.filter(channel=channel).delete()
    channel.connection_state = ConnectionState.NOT_CONNECTED
    channel.connected_login = ""
    channel.connected_seller_id = ""
    channel.connected_at = None
    channel.needs_reauth_since = None
    channel.needs_reauth_reason = ""


def set_import_status(channel: SalesChannel, status_id: int | None) -> None:
    """The status new paid orders of the channel start in (None: the tenant's "New"). Takes the
    id: statuses are orders', a floor above; the caller has checked it is one of the channel's
    tenant (fulfillment's Powiązania statusów page sets it)."""
    SalesChannel.objects.filter(tenant_id=channel.tenant_id, pk=channel.pk).update(
        import_status_id=status_id
    )
    channel.import_status_id = status_id


@transaction.atomic
def set_channel_active(*, channel_id: int, active: bool) -> SalesChannel:
    channel = lock_channel(channel_id)
    if channel.is_active != active:
        channel.is_active = active
        channel.save(update_fields=["is_active", "updated_at"])
    return channel


def channel_has_orders(channel: SalesChannel) -> bool:
    """Whether any business data (orders, shipments, …) points at this channel.

    Generic on purpose: rows whose foreign key cascades are the channel's own configuration
    (credentials, sync state, status mappings) and go with it; rows whose key protects the
    channel are data, and a channel with any of them is deactivated, never deleted.
    """
    for relation in SalesChannel._meta.related_objects:
        if relation.on_delete is models.CASCADE:
            continue
        accessor = relation.related_model._base_manager
        lookup: dict[str, Any] = {relation.field.name: channel}
        if issubclass(relation.related_model, TenantOwnedModel):
            lookup["tenant_id"] = channel.tenant_id  # the tenant's shard only (scale.md)
        if accessor.filter(**lookup).exists():
            return True
    return False


def channel_order_count(channel: SalesChannel) -> int:
    """How many orders came from this channel (the number its delete page names)."""
    return channel.orders.count()


@dataclass(frozen=True)
class DeletionOutlook:
    """What deleting the channel would do, as its confirmation page says it."""

    order_count: int
    can_delete: bool  # False: it has orders (or other data), so it can only be deactivated


def deletion_outlook(channel: SalesChannel) -> DeletionOutlook:
    order_count = channel_order_count(channel)
    # With orders the answer is known; only an order-less channel needs the look at other data.
    return DeletionOutlook(
        order_count=order_count, can_delete=order_count == 0 and not channel_has_orders(channel)
    )


@dataclass(frozen=True)
class DeleteResult:
    deleted: bool  # False: the channel had orders and was deactivated instead


@transaction.atomic
def delete_channel(*, channel_id: int) -> DeleteResult:
    """Delete a channel without orders; a channel with orders is deactivated instead."""
    channel = lock_channel(channel_id)
    if not channel_has_orders(channel):
        try:
            with transaction.atomic():
                AllegroCredential.objects.filter(channel=channel).delete()
                channel.delete()
            return DeleteResult(deleted=True)
        except ProtectedError:
            pass  # rows appeared that protect the channel: fall through to deactivation
    if channel.is_active:
        channel.is_active = False
        channel.save(update_fields=["is_active", "updated_at"])
    return DeleteResult(deleted=False)
