"""Resolve the tenant of every /app/<tenant-slug>/… request and run its view inside that scope.

A request for a tenant the user is not a member of answers 404, exactly like a missing tenant,
so tenant slugs cannot be probed. A tenant view never runs unscoped. Every page under the
"administration" URL namespace requires the administrator role (403 otherwise), so a new
Administracja page cannot forget the check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import Resolver404, resolve
from django.utils.cache import patch_cache_control
from django_scopes import scope

from core.models import Membership
from core.requests import RequestSeenByTenantMiddleware

TENANT_URL_KWARG = "tenant_slug"
ADMINISTRATION_NAMESPACE = "administration"


class TenantMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, http_request: HttpRequest) -> HttpResponse:
        # Here is where a request gets its company (core.requests says what views may rely on).
        request = cast(RequestSeenByTenantMiddleware, http_request)
        request.tenant = None
        request.membership = None
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get(TENANT_URL_KWARG)
        if slug is None:
            return self.get_response(request)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        # All of the user's memberships in one query: the tenant switcher needs the others.
        memberships = list(
            Membership.objects.select_related("tenant")
            .filter(user=request.user)
            .order_by("tenant__name", "tenant_id")
        )
        membership = next((m for m in memberships if m.tenant.slug == slug), None)
        if membership is None:
            raise Http404("No such company.")
        # Known before the role check, so the 403 page shows the company's navigation.
        request.tenant = membership.tenant
        request.membership = membership
        request.other_memberships = [m for m in memberships if m is not membership]
        if ADMINISTRATION_NAMESPACE in match.namespaces and not membership.is_administrator:
            raise PermissionDenied("Only administrators can open Administracja.")
        if request.session.get("last_tenant") != slug:
            request.session["last_tenant"] = slug
        with scope(tenant=membership.tenant):
            return self.get_response(request)


class PrivateCacheMiddleware:
    """Pages served to a logged-in user are never stored by a browser or a shared cache.

    A company's orders and customers' addresses must not stay in a proxy's cache or on a shared
    computer's disk after logging out. Static files are served by WhiteNoise before this runs,
    so they stay cacheable.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            patch_cache_control(response, private=True, no_store=True)
        return response
