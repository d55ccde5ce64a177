"""Order list and order detail (the dashboard, which shows sync health too, is sync/views.py).
Thin: reads through orders.queries, writes through orders.changes. Every view runs inside the
tenant's scope (core.middleware)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from channels.models import SalesChannel
from core.errors import show_as_message
from core.requests import TenantRequest
from orders import queries
from orders.allegro_form import warnings_in_words
from orders.changes import (
    OrderStatusError,
    bulk_change_status,
    change_order_status,
    resolve_attention,
)
from orders.forms import BulkStatusForm, OrderListForm, StatusChoiceForm
from orders.models import DeliveryMethod, Order, OrderStatus

# Query-string keys the list understands; everything else is dropped from links.
_LIST_KEYS = (
    "tab",
    "q",
    "status",
    "payment_status",
    "channel",
    "delivery_method",
    "bought_from",
    "bought_to",
    "imported_from",
    "imported_to",
    "sort",
)


def _statuses(request: TenantRequest) -> list[OrderStatus]:
    return list(OrderStatus.objects.filter(tenant=request.tenant).order_by("position", "pk"))


def _list_context(request: TenantRequest, *, first_page: bool = False) -> dict[str, Any]:
    tenant = request.tenant
    statuses = queries.statuses_with_counts(tenant)
    channels = list(SalesChannel.objects.filter(tenant=tenant).order_by("name", "pk"))
    methods = list(DeliveryMethod.objects.filter(tenant=tenant).order_by("name", "pk"))
    form = OrderListForm(
        request.GET, statuses=statuses, channels=channels, delivery_methods=methods
    )
    filters = form.filters()
    kept = [
        (k, v) for k in _LIST_KEYS for v in request.GET.getlist(k) if v and k not in form.errors
    ]
    cursor = (
        None if first_page else queries.Cursor.decode(request.GET.get("cursor", ""), filters.sort)
    )
    page = queries.page_of(queries.filtered_orders(tenant, filters, statuses), filters.sort, cursor)
    counts = queries.tab_counts(statuses, queries.unpaid_count(tenant))
    base_query = [(k, v) for k, v in kept if k != "tab"]
    tabs = [
        {
            "key": tab.value,
            "label": label,
            "count": counts[tab],
            "active": tab == filters.tab,
            "query": urlencode([("tab", tab.value), *base_query]),
        }
        for tab, label in queries.TAB_LABELS.items()
    ]
    query = urlencode(kept)
    selected = {int(v) for v in request.GET.getlist("order_ids") if v.isascii() and v.isdigit()}
    return {
        "form": form,
        "filters": filters,
        "page": page,
        "tabs": tabs,
        "query": query,
        "statuses": statuses,
        "active_statuses": [s for s in statuses if s.is_active],
        "selected": selected,
        "poll": cursor is None,
        "next_query": urlencode([*kept, ("cursor", page.next_cursor)]) if page.next_cursor else "",
        "prev_query": urlencode([*kept, ("cursor", page.prev_cursor)]) if page.prev_cursor else "",
    }


@require_GET
def order_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    context = _list_context(request)
    return render(request, "orders/list.html", context)


@require_GET
def order_rows(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """The rows of the current first page (htmx polls this, so new orders appear live)."""
    context = _list_context(request, first_page=True)
    return render(request, "orders/_rows.html", context)


def _back_to_list(request: TenantRequest) -> str:
    target = request.POST.get("next", "")
    list_url = reverse("orders:list", args=[request.tenant.slug])
    if target.startswith(list_url) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return list_url


@require_POST
def bulk_status(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = BulkStatusForm(request.POST, statuses=_statuses(request))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_back_to_list(request))
    try:
        result = bulk_change_status(
            request.tenant,
            form.cleaned_data["order_ids"],
            form.cleaned_data["status"],
            request.user,
        )
    except OrderStatusError as exc:
        show_as_message(request, exc)
        return redirect(_back_to_list(request))
    status = form.cleaned_data["status"]
    if result.changed:
        messages.success(
            request,
            ngettext(
                "%(count)d order moved to “%(status)s”.",
                "%(count)d orders moved to “%(status)s”.",
                len(result.changed),
            )
            % {"count": len(result.changed), "status": status.name},
        )
    if result.unchanged:
        messages.info(
            request,
            ngettext(
                "%(count)d order already had this status.",
                "%(count)d orders already had this status.",
                len(result.unchanged),
            )
            % {"count": len(result.unchanged)},
        )
    if result.not_found:
        messages.warning(
            request,
            ngettext(
                "%(count)d selected order no longer exists.",
                "%(count)d selected orders no longer exist.",
                len(result.not_found),
            )
            % {"count": len(result.not_found)},
        )
    return redirect(_back_to_list(request))


def _get_order(request: TenantRequest, order_id: int) -> Order:
    return get_object_or_404(
        Order.objects.select_related("status", "channel", "merged_into"),
        tenant=request.tenant,
        pk=order_id,
    )


@require_GET
def order_detail(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    order = _get_order(request, order_id)
    statuses = _statuses(request)
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "lines": list(order.lines.all()),
            "events": list(order.events.select_related("actor").order_by("-created_at", "-id")),
            "merged_from": list(order.merged_from.only("id", "number", "tenant_id")),
            "parse_warnings": warnings_in_words(order.parse_warnings),
            "status_form": StatusChoiceForm(initial={"status": order.status_id}, statuses=statuses),
        },
    )


@require_POST
def change_status(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    order = _get_order(request, order_id)
    form = StatusChoiceForm(request.POST, statuses=_statuses(request))
    if not form.is_valid():
        for error in form.errors.get("status", []):
            messages.error(request, str(error))
    else:
        try:
            if change_order_status(order, form.cleaned_data["status"], request.user):
                messages.success(
                    request,
                    _("Status changed to “%(status)s”.") % {"status": order.status.name},
                )
            else:
                messages.info(request, _("The order already has this status."))
        except OrderStatusError as exc:
            show_as_message(request, exc)
    return redirect("orders:detail", tenant_slug=request.tenant.slug, order_id=order.pk)


@require_POST
def resolve_alert(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    order = _get_order(request, order_id)
    if resolve_attention(order, request.user):
        messages.success(request, _("The alert is marked as handled."))
    return redirect("orders:detail", tenant_slug=request.tenant.slug, order_id=order.pk)
