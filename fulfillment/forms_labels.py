"""Forms of labels through Wysyłam z Allegro: the courier account, the parcels of a label and
the courier account a batch of labels uses. They validate; services/labels/ writes."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.forms import formset_factory
from django.utils.translation import gettext_lazy as _

from channels.models import SalesChannel
from core.models import Tenant
from fulfillment.models import CourierAccount, PackageType
from fulfillment.services.labels.accounts import EDITABLE, iban_problem, normalize_iban
from fulfillment.services.labels.inputs import MAX_PARCELS, Parcel
from orders.models import OrderStatus


class CourierAccountForm(forms.ModelForm):
    class Meta:
        model = CourierAccount
        # the scoped choices (channel, status after the label) are made in __init__
        fields = [name for name in EDITABLE if name not in ("channel", "status_after_label")]
        help_texts = {
            "email": _("Allegro requires the sender's e-mail: without it labels fail."),
            "phone": _("Allegro requires the sender's phone number too."),
            "drop_off_point": _("Optional: the point where you hand in parcels (its id)."),
            "page_size": _("A6 for label printers; A4 holds four labels on a page (PDF only)."),
            "cod_iban": _("Where the carrier pays the cash collected on delivery."),
            "insure_order_value": _("Each parcel is insured for the order's value."),
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # scoped querysets exist only inside the tenant's scope: the fields are made here
        self.fields["channel"] = forms.ModelChoiceField(
            label=_("Allegro account"),
            queryset=SalesChannel.objects.filter(tenant=tenant).order_by("name"),
            initial=self.instance.channel_id if self.instance.pk else None,
        )
        self.fields["status_after_label"] = forms.ModelChoiceField(
            label=_("Status after the label"),
            queryset=OrderStatus.objects.filter(tenant=tenant, is_active=True).order_by(
                "position", "pk"
            ),
            required=False,
            initial=self.instance.status_after_label_id if self.instance.pk else None,
            help_text=_("Optional: orders move to this status once the label is made."),
        )
        self.order_fields(["name", "channel"])
        for name in ("email", "phone"):
            self.fields[name].required = True

    def clean_cod_iban(self) -> str:
        iban = normalize_iban(self.cleaned_data.get("cod_iban") or "")
        if iban:
            problem = iban_problem(iban)
            if problem:
                raise forms.ValidationError(problem)
        return iban

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not (data.get("sender_name") or data.get("sender_company")):
            self.add_error("sender_name", _("Enter the sender's name or company."))
        if data.get("cod_iban") and not data.get("cod_owner"):
            self.add_error("cod_owner", _("Enter the account holder's name."))
        return data


class ParcelForm(forms.Form):
    package_type = forms.ChoiceField(label=_("type"), choices=PackageType.choices)
    length_cm = forms.DecimalField(
        label=_("length (cm)"), min_value=Decimal("0.1"), max_digits=6, decimal_places=1
    )
    width_cm = forms.DecimalField(
        label=_("width (cm)"), min_value=Decimal("0.1"), max_digits=6, decimal_places=1
    )
    height_cm = forms.DecimalField(
        label=_("height (cm)"), min_value=Decimal("0.1"), max_digits=6, decimal_places=1
    )
    weight_kg = forms.DecimalField(
        label=_("weight (kg)"), min_value=Decimal("0.01"), max_digits=6, decimal_places=2
    )

    def parcel(self) -> Parcel:
        d = self.cleaned_data
        return Parcel(
            d["package_type"], d["length_cm"], d["width_cm"], d["height_cm"], d["weight_kg"]
        )


ParcelFormSet = formset_factory(
    ParcelForm, extra=0, min_num=1, max_num=MAX_PARCELS, validate_min=True, validate_max=True
)


def parcel_initial(parcel: Parcel) -> dict[str, Any]:
    return {
        "package_type": parcel.package_type,
        "length_cm": parcel.length_cm,
        "width_cm": parcel.width_cm,
        "height_cm": parcel.height_cm,
        "weight_kg": parcel.weight_kg,
    }


class AccountChoiceForm(forms.Form):
    def __init__(
        self, *args: Any, tenant: Tenant, channel_ids: list[int] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        qs = CourierAccount.objects.filter(tenant=tenant).select_related("channel")
        if channel_ids is not None:
            qs = qs.filter(channel_id__in=channel_ids)
        self.fields["courier_account"] = forms.ModelChoiceField(
            label=_("Courier account"), queryset=qs
        )
