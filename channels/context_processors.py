from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_scopes import scope

from channels.models import SalesChannel


def channel_alerts(request: HttpRequest) -> dict[str, Any]:
    """Channels of the current tenant that need re-authorization (the back-office banner)."""
    tenant = getattr(request, "tenant", None)
    if tenant is None or not request.user.is_authenticated:
        return {"channels_needing_reauth": []}
    # request.tenant is only set after TenantMiddleware checked the membership. Enter the scope
    # explicitly: error pages render after the view's scope has been left.
    with scope(tenant=tenant):
        return {"channels_needing_reauth": list(SalesChannel.objects.needing_reauth())}
