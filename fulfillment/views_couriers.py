"""Administracja → Kurierzy → Wysyłam z Allegro (administrators only, by the middleware): the
courier accounts labels are made with. Thin: the form validates, services/labels/accounts
writes."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.requests import TenantRequest
from fulfillment.forms_labels import CourierAccountForm
from fulfillment.models import CourierAccount
from fulfillment.services.labels.accounts import delete_courier_account, save_courier_account
from fulfillment.services.labels.errors import LabelError


def courier_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    accounts = CourierAccount.objects.filter(tenant=request.tenant).select_related("channel")
    return render(request, "fulfillment/couriers/list.html", {"accounts": accounts})


@require_http_methods(["GET", "POST"])
def courier_edit(
    request: TenantRequest, tenant_slug: str, account_id: int | None = None
) -> HttpResponse:
    account = (
        get_object_or_404(CourierAccount, tenant=request.tenant, pk=account_id)
        if account_id is not None
        else None
    )
    form = CourierAccountForm(
        request.POST if request.method == "POST" else None,
        instance=account,
        tenant=request.tenant,
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = save_courier_account(request.tenant, form.cleaned_data, account)
        except LabelError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("The courier account “%(name)s” was saved.") % {"name": saved.name}
            )
            return redirect("administration:fulfillment:couriers", tenant_slug=request.tenant.slug)
    return render(
        request,
        "fulfillment/couriers/form.html",
        {"form": form, "account": account},
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def courier_delete(request: TenantRequest, tenant_slug: str, account_id: int) -> HttpResponse:
    account = get_object_or_404(CourierAccount, tenant=request.tenant, pk=account_id)
    if delete_courier_account(account):
        messages.success(request, _("The courier account was deleted."))
    else:
        messages.error(
            request, _("Labels were made with this courier account: it stays for their records.")
        )
    return redirect("administration:fulfillment:couriers", tenant_slug=request.tenant.slug)
