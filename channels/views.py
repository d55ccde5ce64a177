"""Administracja → Kanały sprzedaży, and the tenant-less OAuth callback. Thin: every write is a
service call. The tenant middleware has already checked membership, the administrator role (for
the administration namespace) and entered the tenant's scope."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from channels.clients.allegro import (
    UnknownEnvironment,
    get_environment,
    missing_shipment_scopes,
)
from channels.forms import SalesChannelForm
from channels.models import AllegroCredential, SalesChannel
from channels.services import channels as channel_services
from channels.services import oauth
from channels.services.channels import DuplicateAlias
from core.errors import add_to_form, show_as_message
from core.requests import LoggedInRequest, TenantRequest


def _channel(channel_id: int) -> SalesChannel:
    # The scoped manager: another tenant's id is a 404, exactly like a missing one.
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404("No such sales channel.")
    return channel


def _detail_url(tenant_slug: str, channel_id: int) -> str:
    return reverse(
        "administration:channels:detail",
        kwargs={"tenant_slug": tenant_slug, "channel_id": channel_id},
    )


@require_GET
def channel_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    channels = SalesChannel.objects.all()
    return render(request, "channels/list.html", {"channels": channels})


@require_http_methods(["GET", "POST"])
def channel_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = SalesChannelForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            channel = channel_services.create_channel(
                tenant=request.tenant, data=form.settings_data()
            )
        except DuplicateAlias as exc:
            add_to_form(form, exc)
        else:
            messages.success(
                request,
                _("The sales channel was saved. Now click “Authorize” to connect it to Allegro."),
            )
            return redirect(_detail_url(tenant_slug, channel.pk))
    return render(request, "channels/form.html", {"form": form, "channel": None})


@require_GET
def channel_detail(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    credential = AllegroCredential.objects.filter(channel=channel).first()
    try:
        environment = get_environment(channel.allegro_environment)
    except UnknownEnvironment:
        environment = None
    response = render(
        request,
        "channels/detail.html",
        {
            "channel": channel,
            "credential": credential,
            "environment": environment,
            "outlook": channel_services.deletion_outlook(channel),
            # a grant from before labels lacks the shipments scopes: ask for a new one
            "missing_label_scopes": (
                missing_shipment_scopes(credential.scopes)
                if credential is not None and channel.connection_state == "connected"
                else []
            ),
        },
    )
    if environment is not None:
        # "Authorize" posts here and is redirected to Allegro: CSP form-action must allow it.
        # The attribute django-csp's own csp_update decorator sets and its middleware reads.
        response._csp_update = {"form-action": [environment.auth_origin]}  # type: ignore[attr-defined]
    return response


@require_http_methods(["GET", "POST"])
def channel_edit(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    form = SalesChannelForm(request.POST or None, instance=channel, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            result = channel_services.update_channel(
                channel_id=channel.pk, data=form.settings_data()
            )
        except DuplicateAlias as exc:
            add_to_form(form, exc)
        else:
            if result.disconnected:
                messages.warning(
                    request,
                    _(
                        "The Allegro environment changed, so the channel must be authorized "
                        "again: click “Authorize”."
                    ),
                )
            else:
                messages.success(request, _("The sales channel was saved."))
            return redirect(_detail_url(tenant_slug, channel.pk))
    return render(request, "channels/form.html", {"form": form, "channel": channel})


@require_POST
def channel_authorize(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    try:
        url = oauth.start_authorization(session=request.session, user=request.user, channel=channel)
    except oauth.AuthorizationFailed as exc:
        show_as_message(request, exc)
        return redirect(_detail_url(tenant_slug, channel.pk))
    return redirect(url)


@require_POST
def channel_deactivate(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = channel_services.set_channel_active(channel_id=_channel(channel_id).pk, active=False)
    messages.success(
        request, _("The sales channel was deactivated: its orders are no longer fetched.")
    )
    return redirect(_detail_url(tenant_slug, channel.pk))


@require_POST
def channel_activate(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = channel_services.set_channel_active(channel_id=_channel(channel_id).pk, active=True)
    messages.success(request, _("The sales channel was activated."))
    return redirect(_detail_url(tenant_slug, channel.pk))


@require_http_methods(["GET", "POST"])
def channel_delete(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    """GET asks (naming the channel and its orders), POST deletes; the service re-checks the
    orders under the channel's lock, since some may have arrived after the page was shown."""
    channel = _channel(channel_id)
    if request.method == "GET":
        return render(
            request,
            "channels/delete.html",
            {"channel": channel, "outlook": channel_services.deletion_outlook(channel)},
        )
    result = channel_services.delete_channel(channel_id=channel.pk)
    if result.deleted:
        messages.success(request, _("The sales channel was deleted."))
        return redirect("administration:channels:list", tenant_slug=tenant_slug)
    messages.warning(
        request,
        _(
            "The sales channel has orders, so it was deactivated instead of deleted: its orders "
            "stay in apilo."
        ),
    )
    return redirect(_detail_url(tenant_slug, channel_id))


@never_cache
@login_required
@require_GET
def allegro_callback(request: LoggedInRequest) -> HttpResponse:
    """Allegro redirects the browser here after the seller logs in and confirms (or cancels)."""
    try:
        outcome = oauth.complete_authorization(
            session=request.session, user=request.user, params=request.GET
        )
    except oauth.AuthorizationFailed as exc:
        show_as_message(request, exc)
        if exc.tenant_slug and exc.channel_id:
            return redirect(_detail_url(exc.tenant_slug, exc.channel_id))
        if exc.tenant_slug:
            return redirect("administration:channels:list", tenant_slug=exc.tenant_slug)
        return redirect("home")
    if outcome.reauthorized:
        messages.success(
            request,
            _("Authorized again as %(login)s. Orders are being fetched again.")
            % {"login": outcome.channel.connected_login},
        )
    else:
        messages.success(
            request,
            _("Connected to Allegro as %(login)s.") % {"login": outcome.channel.connected_login},
        )
    return redirect(_detail_url(outcome.tenant_slug, outcome.channel.pk))
