from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def tenant(request: HttpRequest) -> dict[str, Any]:
    """The active tenant, the user's role in it and the other tenants for the switcher
    (all loaded by core.middleware.TenantMiddleware)."""
    current = getattr(request, "tenant", None)
    if current is None or not request.user.is_authenticated:
        return {"tenant": None, "membership": None, "other_memberships": []}
    return {
        "tenant": current,
        "membership": request.membership,
        "other_memberships": request.other_memberships,
    }
