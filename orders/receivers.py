"""What orders does when a floor below announces something (connected in OrdersConfig.ready)."""

from __future__ import annotations

from typing import Any

from core.models import Tenant
from orders.statuses import seed_default_statuses


def seed_statuses_of_new_tenant(sender: Any, tenant: Tenant, **kwargs: Any) -> None:
    """core.signals.tenant_created: a new company starts with the built-in statuses."""
    seed_default_statuses(tenant)
