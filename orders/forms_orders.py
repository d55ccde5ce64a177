"""Forms of the order list, the order detail and the bulk status change.

Choices come from rows the view has already loaded for the current tenant (one query each), so
an id of another tenant is simply not a valid choice: the form says so and the filter is ignored.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from orders.models import DeliveryMethod, OrderStatus, PaymentStatus
from orders.queries import DEFAULT_TAB, SORT_LABELS, TAB_LABELS, OrderFilters, Sort, Tab

MAX_BULK = 500


class DateInput(forms.DateInput):
    input_type = "date"


class OrderListForm(forms.Form):
    tab = forms.ChoiceField(choices=list(TAB_LABELS.items()), required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={"placeholder": _("Number, login, name, e-mail, Allegro id"), "type": "search"}
        ),
    )
    status = forms.TypedChoiceField(label=_("Status"), required=False, coerce=int, empty_value=None)
    payment_status = forms.ChoiceField(label=_("Payment"), required=False)
    channel = forms.TypedChoiceField(
        label=_("Sales channel"), required=False, coerce=int, empty_value=None
    )
    delivery_method = forms.ChoiceField(label=_("Delivery method"), required=False)
    bought_from = forms.DateField(label=_("Bought from"), required=False, widget=DateInput)
    bought_to = forms.DateField(label=_("Bought to"), required=False, widget=DateInput)
    imported_from = forms.DateField(label=_("Imported from"), required=False, widget=DateInput)
    imported_to = forms.DateField(label=_("Imported to"), required=False, widget=DateInput)
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=list(SORT_LABELS.items()))

    def __init__(
        self,
        data: Any,
        *,
        statuses: list[OrderStatus],
        channels: list[Any],
        delivery_methods: list[DeliveryMethod],
    ) -> None:
        super().__init__(data)
        everything = [("", _("Any"))]
        self.fields["status"].choices = everything + [(s.pk, s.name) for s in statuses]
        self.fields["payment_status"].choices = everything + list(PaymentStatus.choices)
        self.fields["channel"].choices = everything + [(c.pk, str(c)) for c in channels]
        self.fields["delivery_method"].choices = everything + [
            (m.external_id, m.name) for m in delivery_methods
        ]
        self.fields["status"].error_messages["invalid_choice"] = _(
            "There is no such status; the status filter was ignored."
        )
        self.fields["channel"].error_messages["invalid_choice"] = _(
            "There is no such sales channel; the channel filter was ignored."
        )
        self.fields["delivery_method"].error_messages["invalid_choice"] = _(
            "There is no such delivery method; the delivery filter was ignored."
        )

    def filters(self) -> OrderFilters:
        """The filters of the valid fields; an invalid field is left out (and reported)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return OrderFilters(
            tab=Tab(data.get("tab") or DEFAULT_TAB),
            q=data.get("q") or "",
            status_id=data.get("status"),
            payment_status=data.get("payment_status") or "",
            channel_id=data.get("channel"),
            delivery_method_id=data.get("delivery_method") or "",
            bought_from=data.get("bought_from"),
            bought_to=data.get("bought_to"),
            imported_from=data.get("imported_from"),
            imported_to=data.get("imported_to"),
            sort=Sort(data.get("sort") or Sort.BOUGHT_DESC),
        )


class StatusChoiceForm(forms.Form):
    status = forms.TypedChoiceField(label=_("New status"), coerce=int)

    def __init__(self, data: Any = None, *, statuses: list[OrderStatus], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._statuses = {s.pk: s for s in statuses if s.is_active}
        self.fields["status"].choices = [(s.pk, s.name) for s in self._statuses.values()]
        self.fields["status"].error_messages["invalid_choice"] = _(
            "Choose one of your active statuses."
        )

    def clean_status(self) -> OrderStatus:
        return self._statuses[self.cleaned_data["status"]]


class IdListField(forms.Field):
    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        try:
            ids = sorted({int(v) for v in value})
        except (TypeError, ValueError) as exc:
            raise ValidationError(_("The selection is not valid."), code="invalid") from exc
        if len(ids) > MAX_BULK:
            raise ValidationError(
                _("Select at most %(max)d orders at a time.") % {"max": MAX_BULK}, code="max"
            )
        return ids


class BulkStatusForm(StatusChoiceForm):
    order_ids = IdListField(
        label=_("Orders"), error_messages={"required": _("Select at least one order.")}
    )
