"""The checkout-form parser: the examples read exactly; nasty variants import with warnings."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

import pytest

from orders.allegro_form import (
    FormRejected,
    clean_json,
    form_hash,
    parse_checkout_form,
    payment_status,
)
from tests.support.orders import example_form

UTC = dt.UTC


def test_the_example_form_is_read_field_by_field():
    p = parse_checkout_form(example_form())
    assert p.external_id == "29738e61-7f6a-11e8-ac45-09db60ede9d6"
    assert p.allegro_status == "READY_FOR_PROCESSING"
    assert p.fulfillment_status == "SENT"
    assert p.revision == "819b5836"
    assert p.marketplace == "allegro-pl"
    assert (p.buyer_id, p.buyer_login, p.buyer_email) == (
        "23123123",
        "User_Login",
        "user-email@allegro.pl",
    )
    assert (p.buyer_first_name, p.buyer_last_name, p.buyer_company) == (
        "Jan",
        "Kowalski",
        "Kowalex",
    )
    assert (p.buyer_phone, p.buyer_guest, p.buyer_language) == ("123123123", False, "pl-PL")
    assert p.buyer_address == {
        "street": "Solna",
        "city": "Poznań",
        "zip_code": "60-166",
        "country_code": "PL",
    }
    assert p.buyer_message == "Please send me an item in red color"
    assert p.delivery_address == {
        "first_name": "Jan",
        "last_name": "Kowalski",
        "company_name": "Kowalex",
        "street": "Grunwaldzka 182",
        "city": "Poznań",
        "zip_code": "60-166",
        "country_code": "PL",
        "phone_number": "123123123",
    }
    assert (p.delivery_method_id, p.delivery_method_name) == (
        "1fa56f79-4b6a-4821-a6f2-ca9c16d5c925",
        "Allegro Paczkomaty InPost",
    )
    assert p.delivery_cost == Decimal("123.45")
    assert (p.pickup_point_id, p.pickup_point_name) == ("POZ08A", "Paczkomat POZ08A")
    assert p.pickup_point_address == {
        "street": "Grunwaldzka 108",
        "city": "Poznań",
        "zip_code": "60-166",
        "country_code": "PL",
        "description": "Stacja paliw BP",
    }
    assert p.invoice_required is True
    assert (p.invoice_company_name, p.invoice_tax_id) == ("Udix Sp. z o.o.", "111-11-11-111")
    assert p.invoice_address == {
        "street": "Grunwaldzka 182",
        "city": "Poznań",
        "zip_code": "60-166",
        "country_code": "PL",
        "company_name": "Udix Sp. z o.o.",
        "first_name": "Jan",
        "last_name": "Kowalski",
    }
    assert (p.payment_id, p.payment_type, p.payment_provider) == (
        "0f8f1d13-7e9e-11e8-9b00-c5b0dfb78ea6",
        "ONLINE",
        "PAYU",
    )
    assert (p.paid_amount, p.total_to_pay, p.currency, p.payment_status) == (
        Decimal("123.45"),
        Decimal("123.45"),
        "PLN",
        "paid",
    )
    assert p.paid_at == dt.datetime(2018, 10, 12, 10, 12, 32, 321000, tzinfo=UTC)
    assert p.bought_at == dt.datetime(2018, 1, 1, 10, 23, 43, 123000, tzinfo=UTC)
    assert p.allegro_updated_at == dt.datetime(2011, 12, 3, 10, 15, 30, 133000, tzinfo=UTC)
    [line] = p.lines
    assert (line.external_id, line.offer_id, line.offer_name, line.sku) == (
        "62ae358b-8f65-4fc4-9c77-bedf604a2e2b",
        "3213213",
        "Name of purchased offer",
        "AH-129834",
    )
    assert (line.quantity, line.price, line.original_price, line.currency) == (
        1,
        Decimal("123.45"),
        Decimal("123.45"),
        "PLN",
    )
    assert p.warnings == []


def test_the_list_example_reads_like_the_detail_example():
    path = __import__("pathlib").Path(__file__).with_name("checkout_forms_list_200.json")
    listing = json.loads(path.read_text(encoding="utf-8"))
    [form] = listing["checkoutForms"]
    assert parse_checkout_form(form) == parse_checkout_form(example_form())


def _everything_null(value):
    if isinstance(value, dict):
        return {k: (None if k != "id" else v) for k, v in value.items()}
    return value


def test_nulls_everywhere_import_with_warnings():
    form = {k: None for k in example_form()}
    form["id"] = "f-1"
    p = parse_checkout_form(form)
    assert p.external_id == "f-1"
    assert p.allegro_status is None
    assert p.lines == []
    assert p.total_to_pay == Decimal("0.00")
    assert p.payment_status == "none"
    assert p.warnings == [
        "status is missing.",
        "buyer is missing.",
        "lineItems is empty or missing: the order has no lines.",
        "summary is missing.",
        "The total to pay is unknown; the sum of the lines (0.00) is shown.",
    ]


def test_null_leaves_inside_every_block_never_raise():
    form = example_form()
    for key, value in form.items():
        if isinstance(value, dict):
            form[key] = {k: None for k in value}
    form["lineItems"] = [{k: None for k in form["lineItems"][0]}]
    form["id"] = "f-2"
    p = parse_checkout_form(form)
    assert p.external_id == "f-2"
    assert [line.external_id for line in p.lines] == ["missing-0"]
    assert "buyer.login is missing." in p.warnings
    assert "lineItems[0].id is missing; the line is kept as “missing-0”." in p.warnings
    assert "lineItems[0].offer is missing." in p.warnings


def test_missing_delivery_and_invoice_on_a_paid_form_are_warned():
    form = example_form()
    del form["delivery"]
    del form["invoice"]
    p = parse_checkout_form(form)
    assert p.delivery_address == {} and p.delivery_method_name == "" and p.pickup_point_id == ""
    assert p.invoice_required is False
    assert p.warnings == ["delivery is missing.", "invoice is missing."]


def test_missing_delivery_on_a_bought_form_is_normal():
    form = example_form()
    form["status"] = "BOUGHT"
    del form["delivery"]
    del form["invoice"]
    assert parse_checkout_form(form).warnings == []


def test_missing_address_phone_and_pickup_point_id():
    form = example_form()
    form["delivery"]["address"] = None
    form["delivery"]["pickupPoint"]["id"] = None
    form["buyer"]["phoneNumber"] = None
    form["invoice"]["address"] = None
    p = parse_checkout_form(form)
    assert p.warnings == [
        "delivery.address is missing.",
        "delivery.pickupPoint.id is missing.",
        "No phone number for the delivery (delivery.address.phoneNumber, buyer).",
        "invoice.address is missing.",
    ]
    assert p.pickup_point_name == "Paczkomat POZ08A"


def test_incomplete_delivery_address_names_the_missing_fields():
    form = example_form()
    form["delivery"]["address"]["street"] = ""
    del form["delivery"]["address"]["zipCode"]
    p = parse_checkout_form(form)
    assert p.warnings == ["delivery.address lacks street, zipCode."]


def test_odd_unicode_is_kept_and_nul_and_lone_surrogates_are_made_storable():
    form = example_form()
    form["buyer"]["firstName"] = "Zoë 🦊"
    form["buyer"]["lastName"] = "\u05e9\u05dc\u05d5\u05dd\u200f"  # Hebrew, RTL mark
    form["buyer"]["login"] = "kup\u200bujący"  # zero-width space
    form["messageToSeller"] = "nul\x00here \ud800 end"
    form["lineItems"][0]["offer"]["name"] = "Ｆｕｌｌｗｉｄｔｈ ✓"
    p = parse_checkout_form(form)
    assert p.buyer_first_name == "Zoë 🦊"
    assert p.buyer_last_name == "\u05e9\u05dc\u05d5\u05dd\u200f"
    assert p.buyer_login == "kup\u200bujący"
    assert p.buyer_message == "nulhere \ufffd end"
    assert p.lines[0].offer_name == "Ｆｕｌｌｗｉｄｔｈ ✓"
    assert p.warnings == []
    cleaned = clean_json(form)
    assert cleaned["messageToSeller"] == "nulhere \ufffd end"
    json.dumps(cleaned).encode("utf-8")  # storable


def test_amounts_that_are_not_numbers_are_warned_and_left_out():
    form = example_form()
    form["summary"]["totalToPay"]["amount"] = "abc"
    form["payment"]["paidAmount"]["amount"] = "NaN"
    form["delivery"]["cost"]["amount"] = "1e999"
    form["lineItems"][0]["price"]["amount"] = {"x": 1}
    form["lineItems"][0]["quantity"] = "two"
    p = parse_checkout_form(form)
    assert p.paid_amount is None
    assert p.delivery_cost is None
    assert p.lines[0].price == Decimal("0.00")
    assert p.lines[0].quantity == 1
    assert p.total_to_pay == Decimal("0.00")
    assert p.payment_status == "none"
    assert p.warnings == [
        "lineItems[0].quantity “two” is not a quantity; 1 is assumed.",
        "lineItems[0].price.amount is not a number; ignored.",
        "lineItems[0].price has no usable amount; 0 is shown.",
        "summary.totalToPay.amount “abc” is not a number; ignored.",
        "The total to pay is unknown; the sum of the lines (0.00) is shown.",
        "payment.paidAmount.amount “NaN” is out of range; ignored.",
        "delivery.cost.amount “1e999” is out of range; ignored.",
    ]


def test_unknown_enums_are_warned_and_not_stored_as_known_values():
    form = example_form()
    form["status"] = "TELEPORTED"
    form["fulfillment"]["status"] = "ON_THE_MOON"
    form["payment"]["type"] = "BARTER"
    p = parse_checkout_form(form)
    assert p.allegro_status is None
    assert p.fulfillment_status == ""
    assert p.payment_type == "BARTER"
    assert p.warnings == [
        "status has an unknown value “TELEPORTED”.",
        "fulfillment.status has an unknown value “ON_THE_MOON”.",
        "payment.type has an unknown value “BARTER”.",
    ]


def test_wrong_shapes_are_ignored_with_warnings():
    form = example_form()
    form["buyer"] = "not an object"
    form["lineItems"] = {"id": "x"}
    form["updatedAt"] = "yesterday"
    p = parse_checkout_form(form)
    assert p.buyer_login == ""
    assert p.lines == []
    assert p.allegro_updated_at is None
    assert p.warnings[:3] == [
        "updatedAt “yesterday” is not a date; ignored.",
        "buyer is not an object; ignored.",
        "lineItems is not a list; ignored.",
    ]


def test_over_long_text_is_cut_with_a_warning():
    form = example_form()
    form["buyer"]["login"] = "x" * 150
    p = parse_checkout_form(form)
    assert p.buyer_login == "x" * 100
    assert p.warnings == ["buyer.login is longer than 100 characters; cut."]


@pytest.mark.parametrize("form", [None, [], "text", 5, {}, {"id": None}, {"id": "  "}])
def test_a_form_without_an_id_is_rejected(form):
    with pytest.raises(FormRejected):
        parse_checkout_form(form)


@pytest.mark.parametrize(
    ("payment_type", "paid", "total", "expected"),
    [
        ("CASH_ON_DELIVERY", None, Decimal("10"), "cash_on_delivery"),
        ("ONLINE", None, Decimal("10"), "none"),
        ("ONLINE", Decimal("0"), Decimal("10"), "none"),
        ("ONLINE", Decimal("4"), Decimal("10"), "partial"),
        ("ONLINE", Decimal("10"), Decimal("10"), "paid"),
        ("ONLINE", Decimal("11"), Decimal("10"), "overpaid"),
    ],
)
def test_payment_status(payment_type, paid, total, expected):
    assert payment_status(payment_type, paid, total) == expected


def test_the_form_hash_ignores_key_order_and_sees_every_change():
    form = example_form()
    reordered = dict(reversed(list(copy.deepcopy(form).items())))
    assert form_hash(form) == form_hash(reordered)
    changed = copy.deepcopy(form)
    changed["fulfillment"]["status"] = "PROCESSING"
    assert form_hash(changed) != form_hash(form)


def _company(**company) -> dict:
    form = example_form()
    form["invoice"]["address"]["company"] = {"name": "Firma", **company}
    return form


def test_typed_tax_ids_are_preferred_over_the_deprecated_text():
    form = _company(
        ids=[{"type": "PL_NIP", "value": "5261040828"}],
        vatPayerStatus="ACTIVE",
        taxId="NIP: 5261040828",
    )
    p = parse_checkout_form(form)
    assert p.invoice_tax_ids == [{"type": "PL_NIP", "value": "5261040828"}]
    assert p.invoice_tax_id == "5261040828"
    assert p.warnings == []


def test_a_czech_company_keeps_its_ico_and_dic():
    form = _company(
        ids=[{"type": "CZ_ICO", "value": "25596641"}, {"type": "CZ_DIC", "value": "CZ25596641"}],
        taxId="CZ25596641",
    )
    p = parse_checkout_form(form)
    assert p.invoice_tax_ids == [
        {"type": "CZ_ICO", "value": "25596641"},
        {"type": "CZ_DIC", "value": "CZ25596641"},
    ]
    assert p.invoice_tax_id == "25596641"


def test_without_ids_the_tax_id_text_is_kept_untyped():
    p = parse_checkout_form(_company(taxId="NIP: 5261040828"))
    assert p.invoice_tax_ids == [{"type": "", "value": "NIP: 5261040828"}]
    assert p.invoice_tax_id == "NIP: 5261040828"
    assert parse_checkout_form(_company(ids=[], taxId=None)).invoice_tax_ids == []


def test_odd_tax_id_entries_are_kept_with_warnings():
    form = _company(
        ids=[
            {"type": "XX_TAX", "value": "123"},
            {"value": "456"},
            {"type": "PL_NIP"},
            "5261040828",
            {"type": "PL_NIP", "value": "5261040828"},
            {"type": "PL_NIP", "value": "5261040828"},
        ],
        taxId="999",
    )
    p = parse_checkout_form(form)
    assert p.invoice_tax_ids == [
        {"type": "OTHER", "value": "123"},
        {"type": "OTHER", "value": "456"},
        {"type": "PL_NIP", "value": "5261040828"},
    ]
    assert p.invoice_tax_id == "5261040828"
    assert p.warnings == [
        "invoice.address.company.ids[0].type has an unknown value “XX_TAX”.",
        "invoice.address.company.ids[1].type is missing.",
        "invoice.address.company.ids[2].value is missing.",
        "invoice.address.company.ids[3] is not an object; ignored.",
    ]


@pytest.mark.parametrize("placeholder", ["---", "+", " - - ", "brak", "+48 --- --- ---"])
def test_a_placeholder_phone_number_is_dropped_and_flagged(placeholder):
    form = example_form()
    form["buyer"]["phoneNumber"] = placeholder
    form["delivery"]["address"]["phoneNumber"] = placeholder
    p = parse_checkout_form(form)
    shown = placeholder.strip()
    assert p.buyer_phone == ""
    assert "phone_number" not in p.delivery_address
    assert p.warnings == [
        f"buyer.phoneNumber “{shown}” is not a phone number; ignored.",
        f"delivery.address.phoneNumber “{shown}” is not a phone number; ignored.",
        "No phone number for the delivery (delivery.address.phoneNumber, buyer).",
    ]


def test_a_phone_number_with_digits_is_kept_as_written():
    form = example_form()
    form["buyer"]["phoneNumber"] = "+48 600-100-200"
    p = parse_checkout_form(form)
    assert p.buyer_phone == "+48 600-100-200"
    assert p.warnings == []


def test_stored_warnings_read_in_the_language_of_the_page():
    from django.utils import translation

    from orders.allegro_form import warnings_in_words

    form = {k: None for k in example_form()}
    form["id"] = "f-3"
    warnings = parse_checkout_form(form).warnings
    with translation.override("pl"):
        assert warnings_in_words(warnings) == [
            "Brak pola status.",
            "Brak pola buyer.",
            "Pole lineItems jest puste albo go brak: zamówienie nie ma pozycji.",
            "Brak pola summary.",
            "Kwota do zapłaty jest nieznana; pokazano sumę pozycji (0.00).",
        ]
        assert warnings_in_words(
            [
                "lineItems[0].quantity “1,5 szt.” is not a quantity; 1 is assumed.",
                "lineItems[0].id is missing; the line is kept as “missing-0”.",
                "delivery.address lacks street, zipCode.",
                "payment.type has an unknown value “INSTALMENTS”.",
                "Something the parser said before it had a translation.",
            ]
        ) == [
            "Pole lineItems[0].quantity „1,5 szt.” nie jest ilością; przyjęto 1.",
            "Brak pola lineItems[0].id; pozycję zapisano jako „missing-0”.",
            "W polu delivery.address brakuje: street, zipCode.",
            "Pole payment.type ma nieznaną wartość „INSTALMENTS”.",
            "Something the parser said before it had a translation.",
        ]
    with translation.override("en"):
        assert warnings_in_words(warnings) == warnings


def test_every_warning_is_read_back_as_itself():
    """A stored sentence is matched to the template that wrote it, values with spaces and
    quotes included (BAD_NUMBER is not NOT_A_NUMBER of a field named "x “1,5”")."""
    import re

    from django.utils import translation

    from orders.allegro_form import WARNINGS, warning_in_words

    values = {"path": "lineItems[0].price.amount", "value": "1,5 “zł”", "limit": "300",
              "line": "missing-0", "amount": "12.50", "fields": "street, city"}  # fmt: skip
    with translation.override("pl"):
        for template in WARNINGS:
            used = {k: v for k, v in values.items() if f"%({k})s" in template}
            polish = translation.gettext(template)
            assert polish != template, template
            assert sorted(re.findall(r"%\(\w+\)s", polish)) == sorted(
                re.findall(r"%\(\w+\)s", template)
            ), template
            assert warning_in_words(template % used) == polish % used, template
