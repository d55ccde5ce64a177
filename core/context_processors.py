from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest

from core.requests import TenantRequest


def tenant(request: HttpRequest) -> dict[str, Any]:
    """The active tenant, the user's role in it and the other tenants for the switcher
    (all loaded by core.middleware.TenantMiddleware)."""
    current = getattr(request, "tenant", None)
    if current is None or not request.user.is_authenticated:
        return {"tenant": None, "membership": None, "other_memberships": []}
    # A company on the request: TenantMiddleware let this member through.
    member_request = cast(TenantRequest, request)
    return {
        "tenant": current,
        "membership": member_request.membership,
        "other_memberships": member_request.other_memberships,
    }
