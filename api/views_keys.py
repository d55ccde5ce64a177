"""Administracja → Klucze API: list, create (the secret shown once, on the answer to the form,
never stored), revoke. The tenant middleware has already refused non-administrators (403) and
runs these views in the tenant's scope, so another tenant's key is not found (404)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api import keys
from api.forms_keys import KeyForm
from api.models import ApiKey
from core.errors import UserError, add_to_form
from core.requests import TenantRequest


@require_http_methods(["GET"])
def key_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    api_keys = ApiKey.objects.filter(tenant=request.tenant).select_related("created_by")
    return render(request, "api/keys/list.html", {"api_keys": api_keys})


@require_http_methods(["GET", "POST"])
def create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = KeyForm(
        request.POST or None, initial={"rate_limit": settings.API_DEFAULT_RATE_LIMIT_PER_MINUTE}
    )
    if request.method == "POST" and form.is_valid():
        try:
            new = keys.create_key(
                request.tenant,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                created_by=request.user,
                rate_limit=form.cleaned_data["rate_limit"],
            )
        except UserError as error:
            add_to_form(form, error)
        else:
            return render(
                request, "api/keys/created.html", {"api_key": new.key, "secret": new.secret}
            )
    return render(request, "api/keys/create.html", {"form": form})


@require_POST
def revoke(request: TenantRequest, tenant_slug: str, api_key_id: int) -> HttpResponse:
    key = get_object_or_404(ApiKey, pk=api_key_id, tenant=request.tenant)
    if keys.revoke_key(key):
        messages.success(request, _("The key “%(name)s” is revoked.") % {"name": key.name})
    return redirect("administration:api_keys:list", tenant_slug=tenant_slug)
