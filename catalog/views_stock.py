"""A product's stock page (the panel the product page includes, with the whole timeline), the
change by hand, and a channel's "send stock to offers" switch (administrators). Thin: forms
validate, catalog.services.stock writes."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from catalog.forms_stock import StockChangeForm
from catalog.models import Product
from catalog.services import stock as stock_service
from catalog.stock_queries import stock_panel
from channels.models import SalesChannel
from core.errors import add_to_form
from core.requests import TenantRequest


@require_GET
def product_stock(request: TenantRequest, tenant_slug: str, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, tenant=request.tenant, pk=product_id)
    before = request.GET.get("before", "")
    panel = stock_panel(product, before=int(before) if before.isdigit() else None)
    return render(
        request,
        "catalog/product_stock.html",
        {"product": product, "panel": panel, "form": StockChangeForm()},
    )


@require_POST
def change_stock(request: TenantRequest, tenant_slug: str, product_id: int) -> HttpResponse:
    product = get_object_or_404(Product, tenant=request.tenant, pk=product_id)
    form = StockChangeForm(request.POST)
    if form.is_valid():
        try:
            change = stock_service.change_stock_by_hand(
                product, actor=request.user, **form.change()
            )
        except stock_service.StockError as exc:
            add_to_form(form, exc)
        else:
            messages.success(request, _("Stock is now %(stock)s.") % {"stock": change.stock_after})
            return redirect(_stock_url(request, product))
    panel = stock_panel(product)
    return render(
        request,
        "catalog/product_stock.html",
        {"product": product, "panel": panel, "form": form},
        status=400,
    )


def _stock_url(request: TenantRequest, product: Product) -> str:
    return reverse("catalog:product_stock", args=[request.tenant.slug, product.pk])


@require_POST
def stock_push_switch(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    if not request.membership.is_administrator:
        raise PermissionDenied
    channel = get_object_or_404(SalesChannel, tenant=request.tenant, pk=channel_id)
    enabled = request.POST.get("enabled") == "on"
    queued = stock_service.set_stock_push(channel, enabled)
    if enabled:
        messages.success(
            request,
            _("Stock is now sent to this channel's offers; %(count)s offers are being updated.")
            % {"count": queued},
        )
    else:
        messages.success(request, _("Stock is no longer sent to this channel's offers."))
    return redirect(
        "administration:channels:detail", tenant_slug=request.tenant.slug, channel_id=channel.pk
    )
