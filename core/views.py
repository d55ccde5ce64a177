"""The site's root page: a signed-in user goes to their company. The other pages of core are
views_accounts.py (sign-up, login, password reset, invitations), views_users.py
(Administracja → Użytkownicy), views_health.py (/healthz) and views_errors.py (error pages)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from core.models import Membership
from core.requests import LoggedInRequest


@login_required
def home(request: LoggedInRequest) -> HttpResponse:
    """Send the user to the tenant they used last, or to their first one."""
    memberships = Membership.objects.select_related("tenant").filter(user=request.user)
    last = request.session.get("last_tenant")
    chosen = next((m for m in memberships if m.tenant.slug == last), None) or memberships.first()
    if chosen is None:
        return render(request, "core/no_tenant.html")
    return redirect("tenant_home", tenant_slug=chosen.tenant.slug)
