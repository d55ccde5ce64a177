"""Fulfillment objects for tests. ``push_of`` also builds the object of
OBJECT_BUILDERS["push_id"] (tests/factories.py) for the tenant-isolation test."""

from __future__ import annotations

from django.utils import timezone
from django_scopes import scope

from core.models import Tenant
from fulfillment.models import FulfillmentPush, PushKind, PushState
from tests.support.orders import order_of


def push_of(tenant: Tenant) -> FulfillmentPush:
    """A failed status push of an order of ``tenant``."""
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
