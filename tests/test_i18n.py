"""Polish is the default language and every UI string has a Polish translation."""

import datetime as dt
import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import translation

from tests.support.po import read_po

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "locale" / "pl" / "LC_MESSAGES" / "django.po"


def test_every_ui_string_has_a_polish_translation():
    entries = [(entry.msgid, entry.msgstrs) for entry in read_po(CATALOGUE)]
    assert len(entries) > 500
    untranslated = [msgid for msgid, translations in entries if not all(translations)]
    assert untranslated == []
    # A fuzzy entry is not compiled: the page would show English (also "#, fuzzy, python-format").
    assert not re.search(r"^#,.*\bfuzzy\b", CATALOGUE.read_text(encoding="utf-8"), re.M)


@pytest.mark.django_db
def test_a_visitor_without_a_preference_gets_polish(client, settings):
    settings.LANGUAGE_CODE = "pl"
    page = client.get(reverse("login")).content.decode()
    assert 'lang="pl"' in page
    assert "Zaloguj" in page


@pytest.mark.django_db
def test_english_is_selectable(client, settings):
    settings.LANGUAGE_CODE = "pl"
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in page
    assert "Log in" in page


# --- Allegro's codes as a seller reads them (channels/allegro_names.py) ----------------------


def test_every_allegro_code_has_the_polish_name_of_allegros_panel():
    from channels import allegro_names

    with translation.override("pl"):
        named = {
            kind: {code: allegro_names.name(kind, code) for code in table}
            for kind, table in allegro_names.TABLES.items()
        }
    assert named == {
        "fulfillment": {
            "NEW": "Nowe",
            "PROCESSING": "W realizacji",
            "READY_FOR_SHIPMENT": "Do wysłania",
            "READY_FOR_PICKUP": "Do odbioru",
            "SENT": "Wysłane",
            "PICKED_UP": "Odebrane w punkcie",
            "CANCELLED": "Anulowane",
            "SUSPENDED": "Wstrzymane",
            "RETURNED": "Zwrócone",
        },
        "checkout": {
            "BOUGHT": "Zamówienie złożone",
            "FILLED_IN": "Czeka na płatność",
            "READY_FOR_PROCESSING": "Gotowe do realizacji",
            "CANCELLED": "Anulowane",
        },
        "event": {
            "BOUGHT": "Zamówienie złożone",
            "FILLED_IN": "Czeka na płatność",
            "READY_FOR_PROCESSING": "Gotowe do realizacji",
            "BUYER_CANCELLED": "Anulowane przez kupującego",
            "AUTO_CANCELLED": "Anulowane automatycznie przez Allegro",
            "FULFILLMENT_STATUS_CHANGED": "Zmieniono status realizacji",
            "BUYER_MODIFIED": "Zmienione przez kupującego",
        },
        "payment": {
            "ONLINE": "Płatność online",
            "CASH_ON_DELIVERY": "Za pobraniem",
            "WIRE_TRANSFER": "Przelew tradycyjny",
            "SPLIT_PAYMENT": "Płatność podzielona",
            "EXTENDED_TERM": "Płatność z odroczonym terminem",
        },
        "provider": {
            "PAYU": "PayU",
            "P24": "Przelewy24",
            "AF": "Allegro Finance",
            "OFFLINE": "poza Allegro",
            "EPT": "Allegro Pay Business",
        },
        "wza_delivery": {
            "DOOR": "Kurier pod drzwi",
            "APM": "Automat paczkowy",
            "PUDO": "Punkt odbioru",
        },
        "wza_payment": {"PREPAID": "Przedpłata", "POSTPAID": "Za pobraniem"},
        "environment": {
            "production": "Allegro.pl",
            "sandbox": "Allegro Sandbox (środowisko testowe)",
            "local": "Symulator Allegro na tym serwerze (do wypróbowania)",
        },
    }
    # The spec's enums, complete (RETURNED is Allegro's own, but shown when Allegro sets it).
    assert list(allegro_names.FULFILLMENT_STATUSES) == [
        "NEW", "PROCESSING", "READY_FOR_SHIPMENT", "READY_FOR_PICKUP", "SENT", "PICKED_UP",
        "CANCELLED", "SUSPENDED", "RETURNED",
    ]  # fmt: skip
    # A code Allegro adds later is shown as it came, not dropped.
    assert allegro_names.name("fulfillment", "SOMETHING_NEW") == "SOMETHING_NEW"
    assert allegro_names.name("fulfillment", "") == ""


def test_a_payment_reads_as_its_type_and_who_processed_it():
    from channels.allegro_names import payment_name

    with translation.override("pl"):
        assert payment_name("ONLINE", "PAYU") == "Płatność online (PayU)"
        assert payment_name("ONLINE", "P24") == "Płatność online (Przelewy24)"
        assert payment_name("CASH_ON_DELIVERY", "OFFLINE") == "Za pobraniem"
        assert payment_name("WIRE_TRANSFER", "") == "Przelew tradycyjny"
        assert payment_name("", "") == ""
    with translation.override("en"):
        assert payment_name("ONLINE", "PAYU") == "Online payment (PayU)"


def test_the_filter_shows_the_name_with_the_code_in_the_title():
    from django.template import Context, Template

    template = Template(
        '{% load allegro_names %}[{{ f|allegro_name:"fulfillment" }}]'
        '[{{ odd|allegro_name:"fulfillment" }}][{{ none|allegro_name:"checkout"|default:"—" }}]'
        "[{{ order|payment_name }}]"
    )
    order = type("O", (), {"payment_type": "CASH_ON_DELIVERY", "payment_provider": "OFFLINE"})
    with translation.override("pl"):
        html = template.render(
            Context({"f": "PROCESSING", "odd": "NEW_ONE", "none": "", "order": order})
        )
    assert html == (
        '[<span title="PROCESSING">W realizacji</span>][<code>NEW_ONE</code>][—]'
        '[<span title="CASH_ON_DELIVERY · OFFLINE">Za pobraniem</span>]'
    )


def test_the_status_mapping_offers_allegros_names():
    from fulfillment.forms import fulfillment_choices

    with translation.override("pl"):
        choices = [(code, str(label)) for code, label in fulfillment_choices()]
    assert choices == [
        ("", "— bez zmiany w Allegro —"),
        ("NEW", "Nowe"),
        ("PROCESSING", "W realizacji"),
        ("READY_FOR_SHIPMENT", "Do wysłania"),
        ("READY_FOR_PICKUP", "Do odbioru"),
        ("SENT", "Wysłane"),
        ("PICKED_UP", "Odebrane w punkcie"),
        ("CANCELLED", "Anulowane"),
        ("SUSPENDED", "Wstrzymane"),
    ]


# --- The timeline in a seller's words -------------------------------------------------------


def _event(event_kind: str, **data):
    from orders.models import OrderEvent

    return OrderEvent(kind=event_kind, data=data)


@pytest.mark.parametrize(
    ("kind", "data", "polish"),
    [
        (
            "allegro_status_changed",
            {"from": "BOUGHT", "to": "READY_FOR_PROCESSING"},
            "Zmiana statusu w Allegro: Zamówienie złożone → Gotowe do realizacji",
        ),
        (
            "fulfillment_changed",
            {"from": "NEW", "to": "READY_FOR_SHIPMENT"},
            "Zmiana statusu realizacji w Allegro: Nowe → Do wysłania",
        ),
        (
            "fulfillment_changed",
            {"from": "", "to": "NEW"},
            "Zmiana statusu realizacji w Allegro: — → Nowe",
        ),
        (
            "imported",
            {"number": "AL2612000001", "allegro_status": "FILLED_IN"},
            "Pobrane z Allegro jako AL2612000001 (status w Allegro: Czeka na płatność).",
        ),
        ("updated", {"revision": "819b5836"}, "Dane zamówienia zaktualizowane z Allegro."),
    ],
)
def test_order_events_name_allegros_statuses(kind, data, polish):
    with translation.override("pl"):
        assert _event(kind, **data).describe() == polish


@pytest.mark.parametrize(
    ("data", "polish"),
    [
        (
            {"kind": "status", "outcome": "sent", "target": "PROCESSING"},
            "Przekazano do Allegro: status realizacji „W realizacji”.",
        ),
        (
            {"kind": "shipment", "outcome": "sent", "waybill": "620999888777"},
            "Przekazano do Allegro: przesyłka 620999888777.",
        ),
        (
            {"kind": "status", "outcome": "skipped", "target": "SENT"},
            "Nie trzeba było nic przekazywać do Allegro – jest tam już status realizacji "
            "„Wysłane”.",
        ),
        (
            {"kind": "status", "outcome": "superseded", "target": "PROCESSING",
             "replaced_by": "SENT"},
            "Nie przekazano do Allegro: status realizacji „W realizacji”. Zastąpiła to późniejsza "
            "zmiana („Wysłane”).",
        ),
    ],
)  # fmt: skip
def test_pushes_read_as_passed_on_to_allegro_not_as_shipped(data, polish):
    from fulfillment.timeline import fulfillment_event_text

    with translation.override("pl"):
        assert fulfillment_event_text(_event("fulfillment_push", **data)) == polish


def test_a_shipment_entry_says_it_is_passed_on_to_allegro():
    from fulfillment.timeline import fulfillment_event_text

    event = _event("shipment_added", carrier="InPost", waybill="620999888777", to_allegro=True)
    with translation.override("pl"):
        assert fulfillment_event_text(event) == (
            "Dodano przesyłkę: InPost, numer przesyłki 620999888777. Przekazujemy ją do Allegro."
        )


# --- Dates as each language writes them ------------------------------------------------------

MOMENT = dt.datetime(2026, 12, 2, 13, 5, tzinfo=dt.UTC)  # 14:05 in Warsaw


@pytest.mark.parametrize(
    ("language", "datetime_text", "date_text"),
    [("pl", "02.12.2026 14:05", "02.12.2026"), ("en", "2 Dec 2026, 14:05", "2 Dec 2026")],
)
def test_dates_in_every_format_a_template_uses(language, datetime_text, date_text):
    from django.template import Context, Template

    template = Template(
        '{% load l10n %}{{ m|date:"SHORT_DATETIME_FORMAT" }}|{{ m|date:"DATETIME_FORMAT" }}|'
        '{{ m }}|{{ m|date:"SHORT_DATE_FORMAT" }}|{{ m|date }}|{{ d }}'
    )
    with translation.override(language):
        text = template.render(Context({"m": MOMENT, "d": MOMENT.date()}))
    assert text == "|".join([datetime_text] * 3 + [date_text] * 3)


@pytest.mark.django_db
def test_the_chart_labels_days_as_the_language_writes_them():
    from orders.charts import bar_chart_svg

    series = [(dt.date(2026, 12, 2), 3)]
    with translation.override("pl"):
        polish = str(bar_chart_svg(series))
    with translation.override("en"):
        english = str(bar_chart_svg(series))
    assert ">02.12</text>" in polish and "02.12.2026: 3 zamówienia" in polish
    assert ">2 Dec</text>" in english and "2 Dec 2026: 3 orders" in english
