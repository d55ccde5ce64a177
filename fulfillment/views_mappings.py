"""Administracja → a channel's Powiązania statusów (administrators only, by the middleware):
which Allegro fulfillment status each of the tenant's statuses sets, the status a shipment
moves an order to, and the status new paid orders start in. The channel's pushes are
views_pushes.py."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from channels.models import SalesChannel
from core.requests import TenantRequest
from fulfillment.forms import ChannelFulfillmentForm
from fulfillment.services import mappings
from orders.models import OrderStatus


def _channel(request: TenantRequest, channel_id: int) -> SalesChannel:
    return get_object_or_404(SalesChannel, tenant=request.tenant, pk=channel_id)


@require_http_methods(["GET", "POST"])
def channel_settings(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    statuses = list(OrderStatus.objects.filter(tenant=request.tenant).order_by("position", "pk"))
    form = ChannelFulfillmentForm(
        request.POST if request.method == "POST" else None,
        statuses=statuses,
        mapping=mappings.mapping_of(channel, statuses),
        shipment_status=mappings.shipment_status_for(channel),
        import_status=channel.import_status,
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            mappings.save_mapping(channel, form.targets())
            mappings.save_shipment_status(channel, form.cleaned_data.get("shipment_status"))
            mappings.save_import_status(channel, form.cleaned_data.get("import_status"))
        messages.success(request, _("The status mappings were saved."))
        return redirect(
            "administration:fulfillment:settings",
            tenant_slug=request.tenant.slug,
            channel_id=channel.pk,
        )
    return render(
        request,
        "fulfillment/channel_settings.html",
        {
            "channel": channel,
            "form": form,
            "blocks_cancel": sorted(mappings.BLOCKS_BUYER_CANCEL),
        },
        status=400 if request.method == "POST" else 200,
    )
