"""Produkty (the company's products: list, new, edit, detail, delete) and Powiązania ofert (the
linking screen: offers without a product, suggestions by name, link and unlink in bulk, products
made from offers). Thin: reads through catalog.queries_products, writes through
catalog.services.products and catalog.services.linking. Every view runs inside the tenant's
scope (core.middleware) and names the tenant in its queries: another company's ids answer 404
or are left out of a bulk action."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from catalog import queries_products as queries
from catalog.forms_products import (
    LinkForm,
    NewProductForm,
    OfferSearchForm,
    ProductForm,
    ProductListForm,
    posted_ids,
)
from catalog.models import Product
from catalog.services import linking, products
from channels.models import SalesChannel
from core.errors import add_to_form, show_as_message
from core.requests import TenantRequest


def _channels(request: TenantRequest) -> list[SalesChannel]:
    return list(SalesChannel.objects.filter(tenant=request.tenant).order_by("name", "pk"))


def _product(request: TenantRequest, product_id: int) -> Product:
    return get_object_or_404(Product.objects, tenant=request.tenant, pk=product_id)


def _kept_query(request: TenantRequest, keys: tuple[str, ...], errors: dict) -> str:
    return urlencode(
        [(k, v) for k in keys for v in request.GET.getlist(k) if v and k not in errors]
    )


@require_GET
def product_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = ProductListForm(request.GET, channels=_channels(request))
    form.is_valid()
    d = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    page = queries.products_page(
        request.tenant.pk,
        q=d.get("q") or "",
        linked=d.get("linked") or "",
        stock_zero=bool(d.get("stock_zero")),
        channel_id=d.get("channel"),
        cursor=request.GET.get("cursor", ""),
    )
    query = _kept_query(request, ("q", "linked", "stock_zero", "channel"), form.errors)
    return render(
        request,
        "catalog/products.html",
        {
            "form": form,
            "rows": [(p, page.extra.get(p.pk, 0)) for p in page.rows],
            "next_cursor": page.next_cursor,
            "query": query,
            "filtered": bool(query),
            "paged": bool(request.GET.get("cursor")),
        },
    )


@require_http_methods(["GET", "POST"])
def product_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = NewProductForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            product = products.create_product(
                request.tenant,
                form.data_of(),
                initial_stock=form.cleaned_data["initial_stock"] or 0,
                actor=request.user,
            )
        except products.ProductError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Product “%(name)s” added.") % {"name": product.name})
            return redirect("catalog:product", tenant_slug, product.pk)
    return render(
        request,
        "catalog/products_form.html",
        {"form": form, "product": None},
        status=400 if form.is_bound else 200,
    )


@require_http_methods(["GET", "POST"])
def product_edit(request: TenantRequest, tenant_slug: str, product_id: int) -> HttpResponse:
    product = _product(request, product_id)
    form = ProductForm(
        request.POST if request.method == "POST" else None,
        initial=ProductForm.initial_of(product),
    )
    if request.method == "POST" and form.is_valid():
        try:
            product = products.edit_product(product, form.data_of(), actor=request.user)
        except products.ProductError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Product “%(name)s” saved.") % {"name": product.name})
            return redirect("catalog:product", tenant_slug, product.pk)
    return render(
        request,
        "catalog/products_form.html",
        {"form": form, "product": product},
        status=400 if form.is_bound else 200,
    )


@require_GET
def product_detail(request: TenantRequest, tenant_slug: str, product_id: int) -> HttpResponse:
    product = _product(request, product_id)
    return render(
        request,
        "catalog/products_detail.html",
        {"product": product, "per_channel": queries.offers_of_product(product)},
    )


@require_POST
def product_delete(request: TenantRequest, tenant_slug: str, product_id: int) -> HttpResponse:
    product = _product(request, product_id)
    products.delete_products(request.tenant, [product.pk], actor=request.user)
    messages.success(
        request,
        _("Product “%(name)s” deleted; its offers are without a product now.")
        % {"name": product.name},
    )
    return redirect("catalog:products", tenant_slug)


@require_POST
def products_bulk_delete(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    n = products.delete_products(
        request.tenant, posted_ids(request.POST, "product_ids"), actor=request.user
    )
    messages.success(
        request,
        ngettext(
            "%(n)d product deleted; its offers are without a product now.",
            "%(n)d products deleted; their offers are without a product now.",
            n,
        )
        % {"n": n},
    )
    return redirect("catalog:products", tenant_slug)


# --------------------------------------------------------------------------- linking screen
@require_GET
def linking_screen(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant_id = request.tenant.pk
    form = OfferSearchForm(request.GET, channels=_channels(request))
    form.is_valid()
    d = {k: v for k, v in form.cleaned_data.items() if k not in form.errors}
    show = d.get("show") or "unlinked"
    page = queries.offers_page(
        tenant_id,
        q=d.get("q") or "",
        show=show,
        channel_id=d.get("channel"),
        cursor=request.GET.get("cursor", ""),
    )
    unlinked = show != "linked"
    found = linking.suggestions(tenant_id, page.rows) if unlinked else {}
    ambiguous = linking.ambiguous_eans(tenant_id, page.rows) if unlinked else set()
    query = _kept_query(request, ("q", "show", "channel"), form.errors)
    return render(
        request,
        "catalog/linking.html",
        {
            "form": form,
            "unlinked": unlinked,
            "rows": [(o, found.get(o.pk, []), o.pk in ambiguous) for o in page.rows],
            "products": list(
                Product.objects.filter(tenant_id=tenant_id).order_by("name", "pk")[:1000]
            ),
            "next_cursor": page.next_cursor,
            "query": query,
            "filtered": bool(query),
        },
    )


def _back_to_linking(request: TenantRequest) -> str:
    """Back where the bulk action was chosen (the linking screen or the offers list), with
    its filters; only a query string is taken from the form."""
    back = request.POST.get("back", "")
    page = "catalog:offers" if request.POST.get("from") == "offers" else "catalog:linking"
    base = reverse(page, args=[request.tenant.slug])
    return f"{base}?{back}" if back and "/" not in back and "\\" not in back else base


@require_POST
def link_offers(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = LinkForm(request.POST)
    offer_ids = posted_ids(request.POST, "offer_ids")
    if not form.is_valid() or not offer_ids:
        messages.error(request, _("Choose the offers and the product to link them to."))
        return redirect(_back_to_linking(request))
    try:
        n = linking.link_by_hand(
            request.tenant.pk, offer_ids, form.cleaned_data["product"], actor=request.user
        )
    except linking.LinkError as error:
        show_as_message(request, error)
    else:
        messages.success(
            request,
            ngettext("%(n)d offer linked.", "%(n)d offers linked.", n) % {"n": n},
        )
    return redirect(_back_to_linking(request))


@require_POST
def unlink_offers(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    n = linking.unlink_by_hand(
        request.tenant.pk, posted_ids(request.POST, "offer_ids"), actor=request.user
    )
    messages.success(
        request,
        ngettext(
            "%(n)d offer unlinked; automatic linking leaves it so.",
            "%(n)d offers unlinked; automatic linking leaves them so.",
            n,
        )
        % {"n": n},
    )
    return redirect(_back_to_linking(request))


@require_POST
def products_from_offers(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    n = products.create_products_from_offers(
        request.tenant, posted_ids(request.POST, "offer_ids"), actor=request.user
    )
    messages.success(
        request,
        ngettext(
            "%(n)d product created from the offers.",
            "%(n)d products created from the offers.",
            n,
        )
        % {"n": n},
    )
    return redirect(_back_to_linking(request))
