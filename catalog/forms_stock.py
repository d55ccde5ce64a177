"""The product page's change of stock by hand: set a new stock, or add / take away."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.services.stock import MAX_STOCK


class StockChangeForm(forms.Form):
    SET, ADD = "set", "add"
    mode = forms.ChoiceField(
        label=_("Change"),
        choices=[(SET, _("Set the stock to")), (ADD, _("Add (a negative number takes away)"))],
        initial=SET,
    )
    amount = forms.IntegerField(label=_("Quantity"), min_value=-MAX_STOCK, max_value=MAX_STOCK)
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == self.SET and data.get("amount") is not None and data["amount"] < 0:
            self.add_error("amount", _("The stock to set cannot be negative."))
        return data

    def change(self) -> dict[str, Any]:
        """The arguments of catalog.services.stock.change_stock_by_hand."""
        data = self.cleaned_data
        key = "new_stock" if data["mode"] == self.SET else "delta"
        return {key: data["amount"], "note": data.get("note") or ""}
