"""Forms of the fulfillment pages: status mappings with the channel's statuses, and the
"Dodaj przesyłkę" (add shipment) form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from channels import allegro_names
from core.form_fields import form_field
from core.renderer import validate_shipment_comment
from fulfillment.services.carriers import OTHER, carriers_for, proposed_carrier
from fulfillment.services.shipments import comment_prefill
from orders.models import Order, OrderLine, OrderStatus, SettableFulfillment, SystemStatus

NONE_LABEL = _("— no change on Allegro —")
NO_CARRIER_LABEL = _("— choose the carrier —")


def fulfillment_choices() -> list[tuple[str, Any]]:
    """Allegro's names of the statuses a seller can set ("W realizacji", not PROCESSING)."""
    return [("", NONE_LABEL), *allegro_names.choices("fulfillment", SettableFulfillment.values)]


def _default_new_name(statuses: list[OrderStatus]) -> str:
    """The tenant's own name of the status paid orders start in unless the channel says."""
    for status in statuses:
        if status.system_code == SystemStatus.NEW:
            return status.name
    return str(SystemStatus.NEW.label)


class ChannelFulfillmentForm(forms.Form):
    """One select per status (its Allegro fulfillment status), plus the channel's import status
    and shipment status."""

    def __init__(
        self,
        *args: Any,
        statuses: list[OrderStatus],
        mapping: dict[int, str],
        shipment_status: OrderStatus | None,
        import_status: OrderStatus | None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.statuses = statuses
        for status in statuses:
            self.fields[self.key(status)] = forms.ChoiceField(
                label=status.name,
                choices=fulfillment_choices(),
                required=False,
                initial=mapping.get(status.pk, ""),
            )
        active = [s for s in statuses if s.is_active]
        self.fields["import_status"] = forms.ModelChoiceField(
            label=_("Status of new paid orders"),
            queryset=OrderStatus.objects.filter(pk__in=[s.pk for s in active]),
            required=False,
            empty_label=_("— “%(name)s” (default) —") % {"name": _default_new_name(statuses)},
            initial=import_status.pk if import_status else None,
            help_text=_("Paid orders from this channel start in this status."),
        )
        self.fields["shipment_status"] = forms.ModelChoiceField(
            label=_("Status after a shipment is added"),
            queryset=OrderStatus.objects.filter(pk__in=[s.pk for s in active]),
            required=False,
            empty_label=_("— keep the status —"),
            initial=shipment_status.pk if shipment_status else None,
            help_text=_(
                "When a shipment is added to an order, the order takes this status. Its Allegro "
                "status above is sent to Allegro only if the channel passes shipment "
                "information; otherwise the status changes only in apilo."
            ),
        )

    @staticmethod
    def key(status: OrderStatus) -> str:
        return f"status_{status.pk}"

    def rows(self):
        for status in self.statuses:
            yield status, self[self.key(status)]

    def targets(self) -> dict[int, str]:
        return {s.pk: self.cleaned_data.get(self.key(s)) or "" for s in self.statuses}


class ShipmentForm(forms.Form):
    carrier_id = forms.ChoiceField(
        label=_("Carrier"),
        error_messages={
            "required": _("Choose a carrier from the list."),
            "invalid_choice": _("Choose a carrier from the list."),
        },
    )
    carrier_name = forms.CharField(
        label=_("Carrier name"),
        required=False,
        max_length=30,
        help_text=_("Only for “Other carrier”."),
    )
    waybill = forms.CharField(label=_("Tracking number"), max_length=64)
    line_ids = forms.MultipleChoiceField(
        label=_("Items in the parcel"), widget=forms.CheckboxSelectMultiple, required=False
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[validate_shipment_comment],
    )

    def __init__(
        self, *args: Any, carriers: list[tuple[str, str]], lines: list[OrderLine], **kwargs: Any
    ) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        form_field(self, "carrier_id", forms.ChoiceField).choices = carriers
        form_field(self, "line_ids", forms.MultipleChoiceField).choices = [
            # The offer name is the seller's text from Allegro: isolated so it cannot reorder
            # the label around it.
            (
                line.external_id,
                format_html("{} × <bdi>{}</bdi>", line.quantity, line.offer_name or line.offer_id),
            )
            for line in lines
        ]
        if not self.is_bound:
            self.fields["line_ids"].initial = [line.external_id for line in lines]
        self.carrier_ids = [cid for cid, _label in carriers if cid]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("carrier_id") == OTHER and not (data.get("carrier_name") or "").strip():
            self.add_error("carrier_name", _("Enter the carrier's name."))
        return data


def shipment_form_for(
    order: Order, data: Any = None, lines: list[OrderLine] | None = None
) -> ShipmentForm:
    """The add-shipment form of ``order`` (its own page, and the order page's panel), with the
    channel's stored carriers: building it never calls Allegro."""
    if lines is None:
        lines = list(OrderLine.objects.filter(tenant_id=order.tenant_id, order=order))
    carriers = carriers_for(order.channel)
    # The carrier of the order's delivery method is proposed; without one, nothing is chosen
    # (a wrong carrier chosen for the seller is easy to miss, an empty choice is not).
    return ShipmentForm(
        data,
        carriers=[("", str(NO_CARRIER_LABEL)), *carriers],
        lines=lines,
        initial={
            "comment": comment_prefill(order),
            "carrier_id": proposed_carrier(order, carriers) or "",
        },
    )
