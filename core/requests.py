"""What a view may rely on about its request, said in types.

Django passes its own request object to every view; these classes only declare the attributes
that login_required (a logged-in user) and core.middleware.TenantMiddleware (the company) have
set by the time the view runs. Views take them instead of HttpRequest.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.http import HttpRequest

from core.models import Membership, Tenant


class LoggedInRequest(HttpRequest):
    """A request to a view behind login_required: the user is logged in."""

    user: User


class TenantRequest(LoggedInRequest):
    """A request to a company's pages (/app/<slug>/…): TenantMiddleware let a logged-in member
    through and gives the company, the member's role in it and their other companies."""

    tenant: Tenant
    membership: Membership
    other_memberships: list[Membership]


class RequestSeenByTenantMiddleware(HttpRequest):
    """Any request after TenantMiddleware: the company and membership, or None outside a
    company's pages (other_memberships is set only with them)."""

    tenant: Tenant | None
    membership: Membership | None
    other_memberships: list[Membership]
