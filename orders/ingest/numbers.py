"""Order numbers: alias + yymm + 6-digit sequence, from a per-(tenant, alias, month) counter."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_scopes import scope

from core.models import Tenant
from orders.models import OrderNumberCounter

# The counter row is read under SELECT … FOR UPDATE; the concurrency test switches it off to
# show what it prevents.
_LOCK_COUNTER = True


def numbering_timezone() -> dt.tzinfo:
    """The time zone whose month an order number carries: the deployment's TIME_ZONE
    (Europe/Warsaw), the same for every tenant, whatever zone a request has activated."""
    return timezone.get_default_timezone()


def allocate_order_numbers(
    tenant: Tenant, alias: str, count: int, *, now: dt.datetime | None = None
) -> list[str]:
    """`count` consecutive numbers alias + yymm + 6-digit sequence, unique per tenant.

    The (tenant, alias, yymm) counter row is created if missing and then locked until the
    caller's transaction ends, so concurrent allocations queue and numbers never repeat; a
    rolled-back import gives its numbers back.
    """
    if count <= 0:
        return []
    moment = timezone.localtime(now or timezone.now(), numbering_timezone())
    period = moment.strftime("%y%m")
    with scope(tenant=tenant), transaction.atomic():
        OrderNumberCounter.objects.bulk_create(
            [OrderNumberCounter(tenant=tenant, alias=alias, period=period, last_value=0)],
            ignore_conflicts=True,
        )
        counters = OrderNumberCounter.objects.filter(tenant=tenant, alias=alias, period=period)
        if _LOCK_COUNTER:
            counters = counters.select_for_update()
        counter = counters.get()
        first = counter.last_value + 1
        OrderNumberCounter.objects.filter(pk=counter.pk).update(
            last_value=counter.last_value + count
        )
    return [f"{alias}{period}{value:06d}" for value in range(first, first + count)]
