from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.health import run_checks, shows_details, without_details
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


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    healthy, checks = run_checks()
    if not shows_details(request):
        checks = without_details(checks)
    return JsonResponse(
        {"status": "ok" if healthy else "fail", "checks": checks}, status=200 if healthy else 503
    )
