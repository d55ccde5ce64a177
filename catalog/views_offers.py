"""The offers list (Katalog → Oferty) and the channel page's offer import: "Import offers" and
the progress fragment its card polls. Thin: reads and the write go through
catalog.services.offers."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from catalog.services import offers
from channels.models import SalesChannel
from core.errors import show_as_message
from core.requests import TenantRequest

STATUS_CHOICES = [
    ("", gettext_lazy("Any status")),
    ("ACTIVE", gettext_lazy("Active")),
    ("ACTIVATING", gettext_lazy("Activating")),
    ("INACTIVE", gettext_lazy("Draft")),
    ("ENDED", gettext_lazy("Ended")),
]
LINKED_CHOICES = [
    ("", gettext_lazy("Linked or not")),
    ("yes", gettext_lazy("Linked to a product")),
    ("no", gettext_lazy("Not linked")),
]


def _channel(channel_id: int) -> SalesChannel:
    # The scoped manager: another tenant's id is a 404, exactly like a missing one.
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise Http404("No such sales channel.")
    return channel


class OfferFilterForm(forms.Form):
    q = forms.CharField(label=gettext_lazy("Search"), required=False, max_length=300)
    channel = forms.ModelChoiceField(
        label=gettext_lazy("Channel"),
        queryset=SalesChannel.objects.none(),
        required=False,
        empty_label=gettext_lazy("All channels"),
    )
    status = forms.ChoiceField(label=gettext_lazy("Status"), choices=STATUS_CHOICES, required=False)
    linked = forms.ChoiceField(
        label=gettext_lazy("Product"), choices=LINKED_CHOICES, required=False
    )
    stock_zero = forms.BooleanField(label=gettext_lazy("No stock on Allegro"), required=False)
    removed = forms.BooleanField(label=gettext_lazy("Removed on Allegro"), required=False)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Only the tenant's own channels (scoped manager): another tenant's id is invalid.
        channel = self.fields["channel"]
        assert isinstance(channel, forms.ModelChoiceField)
        channel.queryset = SalesChannel.objects.order_by("name", "pk")

    def filters(self) -> offers.OfferFilters:
        data = self.cleaned_data if self.is_valid() else {}
        linked = data.get("linked") or ""
        channel = data.get("channel")
        return offers.OfferFilters(
            query=data.get("q") or "",
            channel_id=channel.pk if channel else None,
            status=data.get("status") or "",
            linked=None if not linked else linked == "yes",
            stock_zero=bool(data.get("stock_zero")),
            removed=bool(data.get("removed")),
        )


@require_GET
def offer_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = OfferFilterForm(request.GET)
    if request.GET.get("channel") and not form.is_valid() and "channel" in form.errors:
        raise Http404("No such sales channel.")
    after = form.cleaned_data.get("after") if form.is_valid() else None
    rows, next_after = offers.offers_page(offers.filtered_offers(form.filters()), after)
    query = request.GET.copy()
    query.pop("after", None)
    next_query = ""
    if next_after is not None:
        query["after"] = str(next_after)
        next_query = query.urlencode()
        query.pop("after", None)
    return render(
        request,
        "catalog/offers.html",
        {
            "form": form,
            "offers": rows,
            "next_query": next_query,
            "first_query": query.urlencode() if after is not None else None,
            # Where the bulk actions come back to: this very page.
            "query": request.GET.urlencode(),
        },
    )


@require_POST
def offers_import(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    if not request.membership.is_administrator:
        raise PermissionDenied("Only administrators import offers.")
    try:
        offers.import_offers_by_hand(channel)
    except offers.OfferImportRefused as exc:
        show_as_message(request, exc)
    else:
        messages.success(request, _("The offers of this channel are being imported."))
    return redirect(
        reverse(
            "administration:channels:detail",
            kwargs={"tenant_slug": tenant_slug, "channel_id": channel.pk},
        )
        + "#offers-import"
    )


@require_GET
def offers_progress(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = _channel(channel_id)
    return render(
        request,
        "catalog/_offers_progress.html",
        {"channel": channel, "offers_import": offers.import_view(channel)},
    )
