"""Administracja → Webhooki: list, create (the secret shown once, on the answer to the form),
edit, turn off and on, delete, the delivery log and the "send test" button. The tenant
middleware has already refused non-administrators (403) and runs these views in the tenant's
scope, so another tenant's subscription is not found (404)."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from api.forms_webhooks import SubscriptionForm
from api.models_webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from api.webhooks import events, subscriptions
from core.errors import UserError, add_to_form, show_as_message
from core.requests import TenantRequest

LOG_LENGTH = 100


def _subscription(request: TenantRequest, subscription_id: int) -> WebhookSubscription:
    return get_object_or_404(WebhookSubscription, pk=subscription_id, tenant=request.tenant)


@require_http_methods(["GET"])
def subscription_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    found = WebhookSubscription.objects.filter(tenant=request.tenant).select_related("created_by")
    return render(request, "api/webhooks/list.html", {"subscriptions": found})


@require_http_methods(["GET", "POST"])
def create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = SubscriptionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            new = subscriptions.create_subscription(
                request.tenant,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                created_by=request.user,
            )
        except UserError as error:
            add_to_form(form, error)
        else:
            context = {"subscription": new.subscription, "secret": new.secret}
            return render(request, "api/webhooks/created.html", context)
    return render(request, "api/webhooks/form.html", {"form": form, "subscription": None})


@require_http_methods(["GET", "POST"])
def edit(request: TenantRequest, tenant_slug: str, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    initial = {"url": subscription.url, "events": subscription.events}
    form = SubscriptionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            subscriptions.update_subscription(
                subscription, url=form.cleaned_data["url"], events=form.cleaned_data["events"]
            )
        except UserError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("The webhook is saved."))
            return redirect("administration:webhooks:list", tenant_slug=tenant_slug)
    context = {"form": form, "subscription": subscription}
    return render(request, "api/webhooks/form.html", context)


@require_http_methods(["GET"])
def deliveries(request: TenantRequest, tenant_slug: str, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    rows = (
        WebhookDelivery.objects.filter(tenant=request.tenant, subscription=subscription)
        .defer("body")
        .prefetch_related(
            Prefetch("attempt_log", queryset=WebhookAttempt.objects.order_by("number"))
        )
        .order_by("-created_at", "-id")[:LOG_LENGTH]
    )
    context = {"subscription": subscription, "deliveries": rows}
    return render(request, "api/webhooks/deliveries.html", context)


@require_POST
def set_active(request: TenantRequest, tenant_slug: str, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    if request.POST.get("active") == "1":
        if subscriptions.enable(subscription):
            messages.success(request, _("The webhook is on."))
    elif subscriptions.disable(subscription):
        messages.success(request, _("The webhook is off."))
    return redirect("administration:webhooks:list", tenant_slug=tenant_slug)


@require_POST
def send_test(request: TenantRequest, tenant_slug: str, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    try:
        events.send_test(subscription)
    except UserError as error:
        show_as_message(request, error)
    else:
        messages.success(request, _("A test event is on its way; its answer appears below."))
    return redirect("administration:webhooks:deliveries", tenant_slug, subscription.pk)


@require_http_methods(["GET", "POST"])
def delete(request: TenantRequest, tenant_slug: str, subscription_id: int) -> HttpResponse:
    subscription = _subscription(request, subscription_id)
    if request.method == "POST":
        subscriptions.delete_subscription(subscription)
        messages.success(request, _("The webhook is deleted."))
        return redirect("administration:webhooks:list", tenant_slug=tenant_slug)
    return render(request, "api/webhooks/delete.html", {"subscription": subscription})
