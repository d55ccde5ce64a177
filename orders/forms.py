"""Forms of the order list, the order detail and the bulk status change.

Choices come from rows the view has already loaded for the current tenant (one query each), so
an id of another tenant is simply not a valid choice: the form says so and the filter is ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from core.form_fields import form_field
from orders.models import DeliveryMethod, OrderStatus, PaymentStatus
from orders.queries import DEFAULT_TAB, SORT_LABELS, TAB_LABELS, OrderFilters, Sort, Tab

MAX_BULK = 500


class DateInput(forms.DateInput):
    input_type = "date"


# Dates a filter accepts: wide enough for any order, narrow enough that the day after the last
# one and the day's start in any time zone stay representable.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2099, 12, 31)


class FilterDateField(forms.DateField):
    widget = DateInput

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(required=False, **kwargs)
        self.error_messages["invalid"] = _("Enter a valid date; this date filter was ignored.")
        self.widget.attrs.update({"min": FIRST_DAY.isoformat(), "max": LAST_DAY.isoformat()})

    def validate(self, value: dt.date | None) -> None:
        super().validate(value)
        if value is not None and not FIRST_DAY <= value <= LAST_DAY:
            raise ValidationError(
                _(
                    "“%(label)s”: enter a date between %(first)s and %(last)s; this filter was "
                    "ignored."
                )
                % {
                    "label": self.label,
                    "first": date_format(FIRST_DAY, "SHORT_DATE_FORMAT"),
                    "last": date_format(LAST_DAY, "SHORT_DATE_FORMAT"),
                },
                code="out_of_range",
            )


class OrderListForm(forms.Form):
    tab = forms.ChoiceField(choices=list(TAB_LABELS.items()), required=False)
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.TextInput(
            attrs={
                "placeholder": _(
                    "Number, buyer, e-mail, phone, city, SKU, offer, tracking number, Allegro id"
                ),
                "type": "search",
            }
        ),
    )
    status = forms.TypedChoiceField(label=_("Status"), required=False, coerce=int, empty_value=None)
    payment_status = forms.ChoiceField(label=_("Payment"), required=False)
    channel = forms.TypedChoiceField(
        label=_("Sales channel"), required=False, coerce=int, empty_value=None
    )
    delivery_method = forms.ChoiceField(label=_("Delivery method"), required=False)
    bought_from = FilterDateField(label=_("Bought from"))
    bought_to = FilterDateField(label=_("Bought to"))
    imported_from = FilterDateField(label=_("Imported from"))
    imported_to = FilterDateField(label=_("Imported to"))
    sort = forms.ChoiceField(label=_("Sort"), required=False, choices=list(SORT_LABELS.items()))

    def __init__(
        self,
        data: Any,
        *,
        statuses: Sequence[OrderStatus],
        channels: list[Any],
        delivery_methods: list[DeliveryMethod],
    ) -> None:
        super().__init__(data)
        choices: dict[str, list[tuple[Any, Any]]] = {
            "status": [(s.pk, s.name) for s in statuses],
            "payment_status": list(PaymentStatus.choices),
            "channel": [(c.pk, str(c)) for c in channels],
            "delivery_method": [(m.external_id, m.name) for m in delivery_methods],
        }
        for name, options in choices.items():
            form_field(self, name, forms.ChoiceField).choices = [("", _("Any")), *options]
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

    def __init__(self, data: Any = None, *, statuses: Sequence[OrderStatus], **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        self._statuses = {s.pk: s for s in statuses if s.is_active}
        form_field(self, "status", forms.ChoiceField).choices = [
            (s.pk, s.name) for s in self._statuses.values()
        ]
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
