"""Forms of the orders app. They check what a seller typed and say what is wrong in plain words;
the writes themselves go through orders.statuses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.models import Tenant
from orders.models import OrderStatus


class ColourInput(forms.TextInput):
    """The browser's colour picker; it always submits #rrggbb."""

    input_type = "color"


class StatusForm(forms.ModelForm):
    """Name, buyer-facing name, colour and order-list tab of one of the tenant's statuses."""

    class Meta:
        model = OrderStatus
        fields = ["name", "buyer_name", "colour", "group"]
        widgets = {"colour": ColourInput}
        help_texts = {
            "group": _("The tab of the order list that shows orders in this status."),
        }
        error_messages = {
            "name": {"required": _("Give the status a name.")},
            "group": {"required": _("Choose the order-list tab.")},
            "colour": {"required": _("Choose a colour.")},
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        taken = OrderStatus.objects.filter(tenant=self.tenant, name__iexact=name)
        if self.instance.pk is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("A status with this name already exists."), code="duplicate"
            )
        return name

    def clean_colour(self) -> str:
        return self.cleaned_data["colour"].lower()
