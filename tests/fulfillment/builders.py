"""Objects for the tenant-isolation test (tests/factories.OBJECT_BUILDERS) and these tests.

OBJECT_BUILDERS["push_id"] builds its object with push_of.
"""

from __future__ import annotations

from django.utils import timezone
from django_scopes import scope

from core.models import Tenant


def shipment_of(tenant: Tenant):
    """A shipment of an order of ``tenant`` (not sent anywhere)."""
    from fulfillment.models import Shipment
    from tests.orders_domain.builders import order_of

    order = order_of(tenant)
    with scope(tenant=tenant):
        return Shipment.objects.create(
            tenant=tenant,
            order=order,
            channel_id=order.channel_id,
            carrier_id="DPD",
            waybill=f"DPD{order.pk}",
        )


def push_of(tenant: Tenant):
    """A failed status push of an order of ``tenant``."""
    from fulfillment.models import FulfillmentPush, PushKind, PushState
    from tests.orders_domain.builders import order_of

    order = order_of(tenant)
    with scope(tenant=tenant):
        return FulfillmentPush.objects.create(
            tenant=tenant,
            order=order,
            channel_id=order.channel_id,
            kind=PushKind.STATUS,
            target_status="PROCESSING",
            state=PushState.FAILED,
            error_code="refused",
            next_attempt_at=timezone.now(),
        )
