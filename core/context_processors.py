from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from core.models import Membership


def tenant(request: HttpRequest) -> dict[str, Any]:
    """The active tenant, the user's role in it and the other tenants for the switcher."""
    current = getattr(request, "tenant", None)
    if current is None or not request.user.is_authenticated:
        return {"tenant": None, "membership": None, "other_memberships": []}
    others = (
        Membership.objects.select_related("tenant")
        .filter(user=request.user)
        .exclude(tenant=current)
        .order_by("tenant__name")
    )
    return {
        "tenant": current,
        "membership": request.membership,
        "other_memberships": list(others),
    }
