"""Administracja → a channel's changes on their way to Allegro (administrators only, by the
middleware): its pending and failed pushes, and sending failed ones again. The order page's own
retry is views.py."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from channels.models import SalesChannel
from core.requests import TenantRequest
from fulfillment.models import FulfillmentPush, PushState
from fulfillment.services import push as push_service

PUSHES_SHOWN = 200


def _channel(request: TenantRequest, channel_id: int) -> SalesChannel:
    return get_object_or_404(SalesChannel, tenant=request.tenant, pk=channel_id)


@require_http_methods(["GET"])
def channel_pushes(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    open_pushes = FulfillmentPush.objects.filter(
        tenant=request.tenant, channel=channel, state__in=[PushState.PENDING, PushState.FAILED]
    ).select_related("order", "shipment")
    return render(
        request,
        "fulfillment/channel_pushes.html",
        {
            "channel": channel,
            "pending": list(
                open_pushes.filter(state=PushState.PENDING).order_by("id")[:PUSHES_SHOWN]
            ),
            "failed": list(
                open_pushes.filter(state=PushState.FAILED).order_by("-id")[:PUSHES_SHOWN]
            ),
            "pending_count": open_pushes.filter(state=PushState.PENDING).count(),
            "failed_count": open_pushes.filter(state=PushState.FAILED).count(),
        },
    )


@require_POST
def retry_push(request: TenantRequest, tenant_slug: str, push_id: int) -> HttpResponse:
    push = get_object_or_404(FulfillmentPush, tenant=request.tenant, pk=push_id)
    if push_service.retry_push(push, request.user):
        messages.success(request, _("Sending it to Allegro again."))
    return redirect(
        "administration:fulfillment:pushes",
        tenant_slug=request.tenant.slug,
        channel_id=push.channel_id,
    )


@require_POST
def retry_failed(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(request, channel_id)
    failed = list(
        FulfillmentPush.objects.filter(
            tenant=request.tenant, channel=channel, state=PushState.FAILED
        ).order_by("id")
    )
    count = sum(1 for push in failed if push_service.retry_push(push, request.user))
    if count:
        messages.success(
            request,
            ngettext(
                "%(count)d change is being sent to Allegro again.",
                "%(count)d changes are being sent to Allegro again.",
                count,
            )
            % {"count": count},
        )
    return redirect(
        "administration:fulfillment:pushes", tenant_slug=request.tenant.slug, channel_id=channel.pk
    )
