from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest
from django_scopes import scope

from channels.models import SalesChannel

REAUTH_BANNER_TTL = 300


def reauth_banner_key(tenant_id: int) -> str:
    return f"apilo:tenant:{tenant_id}:channels-needing-reauth"


def channel_alerts(request: HttpRequest) -> dict[str, Any]:
    """Channels of the current tenant that need re-authorization (the back-office banner).

    Every page shows the banner, so the list is cached per tenant; channels.signals drops the
    cached list whenever a channel of the tenant is saved or deleted.
    """
    tenant = getattr(request, "tenant", None)
    if tenant is None or not request.user.is_authenticated:
        return {"channels_needing_reauth": []}

    def load() -> list[Mapping[str, Any]]:
        # request.tenant is only set after TenantMiddleware checked the membership. Enter the
        # scope explicitly: error pages render after the view's scope has been left.
        with scope(tenant=tenant):
            return list(SalesChannel.objects.needing_reauth().values("pk", "name", "alias"))

    alerts = cache.get_or_set(reauth_banner_key(tenant.pk), load, timeout=REAUTH_BANNER_TTL)
    return {"channels_needing_reauth": alerts}
