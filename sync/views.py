"""Pages that show the order sync. The dashboard (the company's home: orders per day and the
health of every channel) lives here, above orders, because it shows both. On the channel page
(Administracja → Kanały sprzedaży → channel): the refreshing sync-health card, the backfill
progress partial (htmx polling) and the "re-import a date range" action; the channel page itself
draws the card through the ``channel_health`` template tag (sync/templatetags/sync.py).

Thin: reads go through sync.health, the write through sync.backfill. The URLs keep their names:
``tenant_home`` and ``orders:dashboard``, and the channel's parts in ``administration:channels``
(sync/urls_administration.py), all joined in apilo/urls.py."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from channels.models import SalesChannel
from core.errors import show_as_message
from core.requests import TenantRequest
from orders import charts
from sync.backfill import MAX_DAYS_BACK, BackfillRejected, request_reimport
from sync.health import health_of, health_of_channels
from sync.models import ChannelSyncState


def _channel(channel_id: int) -> SalesChannel:
    # The scoped manager: another tenant's id is a 404, exactly like a missing one.
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404("No such sales channel.")
    return channel


class ReimportForm(forms.Form):
    date_from = forms.DateField(
        label=gettext_lazy("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=gettext_lazy("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self) -> dict:
        super().clean()
        data = self.cleaned_data
        start, end = data.get("date_from"), data.get("date_to")
        today = timezone.localdate()
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        if end and end > today:
            raise forms.ValidationError(_("The end date must not be in the future."))
        if start and start < today - dt.timedelta(days=MAX_DAYS_BACK):
            raise forms.ValidationError(
                _(
                    "Allegro keeps orders for 12 months: choose a start date within the last "
                    "12 months."
                )
            )
        return data


def _detail_url(tenant_slug: str, channel_id: int) -> str:
    url = reverse(
        "administration:channels:detail",
        kwargs={"tenant_slug": tenant_slug, "channel_id": channel_id},
    )
    return f"{url}#sync-health"


@require_GET
def dashboard(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    tenant = request.tenant
    series = charts.orders_per_day(tenant)
    channels = list(SalesChannel.objects.filter(tenant=tenant).order_by("name", "pk"))
    return render(
        request,
        "sync/dashboard.html",
        {
            "chart": charts.bar_chart_svg(series),
            "total_30_days": sum(n for _day, n in series),
            "channels": [(health.channel, health) for health in health_of_channels(channels)],
        },
    )


@require_GET
def sync_health(request: HttpRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    """The refreshing body of the sync-health card."""
    channel = _channel(channel_id)
    context = {"channel": channel, "health": health_of(channel), "body_only": True}
    return render(request, "sync/_health.html", context)


@require_GET
def backfill_progress(request: HttpRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    sync = ChannelSyncState.objects.filter(channel=channel).first()
    return render(request, "sync/_backfill_progress.html", {"channel": channel, "sync": sync})


@require_POST
def reimport(request: HttpRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    form = ReimportForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect(_detail_url(tenant_slug, channel.pk))
    try:
        request_reimport(channel, form.cleaned_data["date_from"], form.cleaned_data["date_to"])
    except BackfillRejected as exc:
        show_as_message(request, exc)
    else:
        messages.success(
            request,
            _("Orders from %(start)s to %(end)s are being imported again.")
            % {"start": form.cleaned_data["date_from"], "end": form.cleaned_data["date_to"]},
        )
    return redirect(_detail_url(tenant_slug, channel.pk))
