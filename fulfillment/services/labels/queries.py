"""What the order page shows of an order's labels (read only)."""

from __future__ import annotations

from fulfillment.models import CourierAccount, LabelJob
from fulfillment.services.labels import jobs
from fulfillment.services.labels.explain import explain
from fulfillment.services.labels.proposals import stored_proposal
from orders.models import Order


def panel_context(order: Order) -> dict[str, object]:
    label_jobs = list(
        LabelJob.objects.filter(tenant_id=order.tenant_id, order_id=order.pk)
        .select_related("courier_account")
        .order_by("-id")
    )
    return {
        "order": order,
        "label_jobs": [(job, explain(job.errors, job.shipment_input)) for job in label_jobs],
        "labels_open": any(job.state in jobs.OPEN for job in label_jobs),
        "has_accounts": CourierAccount.objects.filter(
            tenant_id=order.tenant_id, channel_id=order.channel_id
        ).exists(),
        "proposal": stored_proposal(order),
    }
