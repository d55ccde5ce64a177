"""Order-level fulfillment views (any member of the tenant): add a shipment, retry a push.
Thin: forms validate, fulfillment.services write."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import add_to_form
from core.requests import TenantRequest
from core.variables import Context, variables_for
from fulfillment.forms import shipment_form_for
from fulfillment.models import FulfillmentPush
from fulfillment.services import push as push_service
from fulfillment.services.shipments import ShipmentError
from fulfillment.services.shipments import add_shipment as add_shipment_service
from orders.models import Order


@require_http_methods(["GET", "POST"])
def add_shipment(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    order = get_object_or_404(
        Order.objects.select_related("channel", "status"), tenant=request.tenant, pk=order_id
    )
    form = shipment_form_for(order, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            shipment = add_shipment_service(
                order,
                carrier_id=data["carrier_id"],
                carrier_name=data.get("carrier_name") or "",
                waybill=data["waybill"],
                line_ids=data.get("line_ids") or [],
                comment=data.get("comment") or "",
                actor=request.user,
                carriers=form.carrier_ids,
            )
        except ShipmentError as exc:
            add_to_form(form, exc)
        else:
            if order.channel.pass_shipment_info:
                text = _("Shipment %(waybill)s added; it is being sent to Allegro.")
            else:
                text = _("Shipment %(waybill)s added.")
            messages.success(request, text % {"waybill": shipment.waybill})
            return redirect("orders:detail", tenant_slug=request.tenant.slug, order_id=order.pk)
    return render(
        request,
        "fulfillment/add_shipment.html",
        {
            "order": order,
            "form": form,
            "variables": variables_for(Context.SHIPMENT_COMMENT),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def retry_push(request: TenantRequest, tenant_slug: str, push_id: int) -> HttpResponse:
    push = get_object_or_404(FulfillmentPush, tenant=request.tenant, pk=push_id)
    if push_service.retry_push(push, request.user):
        messages.success(request, _("Sending it to Allegro again."))
    return redirect("orders:detail", tenant_slug=request.tenant.slug, order_id=push.order_id)
