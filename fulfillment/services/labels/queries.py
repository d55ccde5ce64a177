"""What the order page shows of an order's labels (read only).

Most orders have no label and their channel's courier accounts rarely change, so whether there
is anything to show is kept in the cache (keys with the tenant; a miss asks the database in one
query): the order page of an order without labels costs no query for them. A new label of the
order drops its key; a change of the tenant's courier accounts moves their version."""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db.models import Exists, OuterRef

from fulfillment.models import CourierAccount, LabelJob, LabelState
from fulfillment.services.labels.explain import explain
from fulfillment.services.labels.proposals import stored_proposal
from orders.models import Order

FLAGS_TTL_SECONDS = 600
OPEN = (LabelState.CREATING, LabelState.WAITING, LabelState.CANCELLING)


def _accounts_version(tenant_id: int) -> str:
    return str(cache.get(f"apilo:labels:accounts-version:{tenant_id}", 0))


def accounts_changed(tenant_id: int) -> None:
    """The tenant's courier accounts changed: every order's cached flags are stale."""
    cache.set(f"apilo:labels:accounts-version:{tenant_id}", time.time_ns(), None)


def _flags_key(order: Order) -> str:
    version = _accounts_version(order.tenant_id)
    return f"apilo:labels:flags:{order.tenant_id}:{order.pk}:{version}"


def order_labels_changed(tenant_id: int, order_id: int) -> None:
    cache.delete(f"apilo:labels:flags:{tenant_id}:{order_id}:{_accounts_version(tenant_id)}")


def _flags(order: Order) -> tuple[bool, bool]:
    """(the channel has a courier account, the order has labels)."""
    key = _flags_key(order)
    cached = cache.get(key)
    if cached is not None:
        return bool(cached[0]), bool(cached[1])
    row = (
        Order.objects.filter(tenant_id=order.tenant_id, pk=order.pk)
        .annotate(
            has_accounts=Exists(
                CourierAccount.objects.filter(
                    tenant_id=order.tenant_id, channel_id=OuterRef("channel_id")
                )
            ),
            has_jobs=Exists(
                LabelJob.objects.filter(tenant_id=order.tenant_id, order_id=OuterRef("pk"))
            ),
        )
        .values_list("has_accounts", "has_jobs")
        .first()
    )
    flags = (bool(row[0]), bool(row[1])) if row else (False, False)
    cache.set(key, flags, FLAGS_TTL_SECONDS)
    return flags


def panel_context(order: Order) -> dict[str, object]:
    has_accounts, has_jobs = _flags(order)
    label_jobs = (
        list(
            LabelJob.objects.filter(tenant_id=order.tenant_id, order_id=order.pk)
            .select_related("courier_account")
            .order_by("-id")
        )
        if has_jobs
        else []
    )
    return {
        "order": order,
        "label_jobs": [(job, explain(job.errors, job.shipment_input)) for job in label_jobs],
        "labels_open": any(job.state in OPEN for job in label_jobs),
        "has_accounts": has_accounts,
        "proposal": stored_proposal(order),
    }
