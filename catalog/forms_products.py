"""The products' and the linking screen's forms: they validate what a person typed; the
services decide (SKU taken, EAN invalid)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from catalog.services.products import ProductData
from channels.models import SalesChannel
from core.form_fields import form_field


def _dimension(label: Any) -> forms.DecimalField:
    return forms.DecimalField(
        label=label, min_value=Decimal("0.1"), max_digits=7, decimal_places=1, required=False
    )


class ProductForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=300)
    sku = forms.CharField(label=_("SKU"), max_length=100, required=False)
    ean = forms.CharField(
        label=_("EAN"),
        max_length=64,
        required=False,
        help_text=_("8, 12, 13 or 14 digits (GTIN)."),
    )
    weight_kg = forms.DecimalField(
        label=_("Weight (kg)"),
        min_value=Decimal("0.001"),
        max_digits=8,
        decimal_places=3,
        required=False,
    )
    length_cm = _dimension(_("Length (cm)"))
    width_cm = _dimension(_("Width (cm)"))
    height_cm = _dimension(_("Height (cm)"))
    price = forms.DecimalField(
        label=_("Price"), min_value=Decimal("0"), max_digits=12, decimal_places=2, required=False
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, initial="PLN")

    def data_of(self) -> ProductData:
        d = self.cleaned_data
        return ProductData(
            name=d["name"],
            sku=d["sku"],
            ean=d["ean"],
            weight_kg=d["weight_kg"],
            length_cm=d["length_cm"],
            width_cm=d["width_cm"],
            height_cm=d["height_cm"],
            price=d["price"],
            currency=d["currency"] or "PLN",
        )

    @classmethod
    def initial_of(cls, product: Product) -> dict[str, Any]:
        return {name: getattr(product, name) for name in cls.base_fields}


class NewProductForm(ProductForm):
    initial_stock = forms.IntegerField(
        label=_("Stock"), min_value=0, max_value=1_000_000, initial=0, required=False
    )


class _ChannelFilter(forms.Form):
    """A list's channel filter: the company's channels, or all of them."""

    channel = forms.TypedChoiceField(
        label=_("Channel"), coerce=int, required=False, empty_value=None
    )

    def __init__(self, *args: Any, channels: list[SalesChannel], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "channel", forms.TypedChoiceField).choices = [
            ("", _("All channels")),
            *((c.pk, c.name) for c in channels),
        ]


class ProductListForm(_ChannelFilter):
    LINKED = [("", _("All")), ("yes", _("Linked to offers")), ("no", _("Without offers"))]

    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    linked = forms.ChoiceField(label=_("Offers"), choices=LINKED, required=False)
    stock_zero = forms.BooleanField(label=_("Out of stock"), required=False)
    field_order = ["q", "linked", "stock_zero", "channel"]


class OfferSearchForm(_ChannelFilter):
    SHOW = [("unlinked", _("Without product")), ("linked", _("Linked"))]

    q = forms.CharField(label=_("Search"), max_length=100, required=False)
    show = forms.ChoiceField(label=_("Offers"), choices=SHOW, required=False)
    field_order = ["q", "show", "channel"]


class LinkForm(forms.Form):
    """The product chosen on the linking screen (the service takes only the company's)."""

    product = forms.IntegerField(label=_("Product"), min_value=1, max_value=2**63 - 1)


def posted_ids(data: Any, name: str) -> list[int]:
    """The ids a bulk action was sent with (checkboxes); anything but an id is dropped."""
    return sorted({int(v) for v in data.getlist(name) if v.isdigit() and len(v) < 19})
