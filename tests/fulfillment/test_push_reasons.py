"""A push's problems and Allegro's fulfillment statuses as choices: one enum, the seller's words."""

from __future__ import annotations

from django.utils import translation

from fulfillment.models import PushError, StatusMapping
from fulfillment.services.push import reason_text
from orders.models import FulfillmentStatus, SettableFulfillment


def test_settable_statuses_are_allegros_without_returned():
    assert SettableFulfillment.values == [
        "NEW",
        "PROCESSING",
        "READY_FOR_SHIPMENT",
        "READY_FOR_PICKUP",
        "SENT",
        "PICKED_UP",
        "CANCELLED",
        "SUSPENDED",
    ]
    assert set(FulfillmentStatus.values) - set(SettableFulfillment.values) == {"RETURNED"}
    field = StatusMapping._meta.get_field("fulfillment_status")
    assert [value for value, _label in field.choices] == SettableFulfillment.values


def test_every_push_problem_reads_in_polish():
    with translation.override("pl"):
        for error in PushError:
            assert reason_text(error) == str(error.label)
            with translation.override("en"):
                english = str(error.label)
            assert reason_text(error) != english, error
        assert reason_text(PushError.CHANGE_LIMIT, "Limit reached") == (
            "Allegro odmówiło: status tego zamówienia zmieniano już w Allegro maksymalną liczbę "
            "razy (100). W razie potrzeby ustaw go w panelu Allegro. "
            "(komunikat Allegro: Limit reached)"
        )


def test_allegros_words_only_beside_its_refusals():
    with translation.override("en"):
        assert reason_text(PushError.TRANSIENT, "Service Unavailable") == (
            "Allegro did not answer or had an error. apilo tries again by itself."
        )
        assert reason_text(PushError.WAYBILL_USED, "used too often") == (
            "Allegro refused the tracking number: it is already used on too many orders. "
            "(Allegro says: used too often)"
        )


def test_a_code_this_version_does_not_know_is_shown_as_it_is():
    assert reason_text("gone_fishing") == "gone_fishing"
