"""The beat sweeper's query: orders whose pending pushes are due (a lost message, a retry)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Min, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from fulfillment.models import FulfillmentPush, PushState


def sweep_due(limit: int | None = None) -> list[tuple[int, int]]:
    """(tenant id, order id) of every order with a pending push that is due, oldest first, for
    the beat sweeper to dispatch. Orders of channels that are not connected wait."""
    limit = int(limit or settings.FULFILLMENT_SWEEP_BATCH)
    now = timezone.now()
    with scopes_disabled():
        rows = (
            FulfillmentPush.objects.filter(state=PushState.PENDING, next_attempt_at__lte=now)
            .filter(Q(channel__connection_state="connected") & Q(channel__is_active=True))
            .values("tenant_id", "order_id")
            .annotate(due=Min("next_attempt_at"))
            .order_by("due")[:limit]
        )
        due = [(r["tenant_id"], r["order_id"]) for r in rows]
        if due:
            # Not again at the next tick while the dispatched task is on its way.
            later = now + timedelta(seconds=settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS)
            FulfillmentPush.objects.filter(
                state=PushState.PENDING,
                next_attempt_at__lte=now,
                order_id__in=[order_id for _t, order_id in due],
            ).update(next_attempt_at=later)
    return due
