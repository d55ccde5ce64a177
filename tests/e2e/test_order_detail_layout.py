"""The order page in Chromium at laptop, desktop and phone widths, in Polish and in English:
no value is clipped inside its cell and nothing is wider than the window, for a realistic
order and for one whose buyer, address, message and line carry 10 000-character words."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page

from orders.ingest import upsert_order_from_checkout_form
from tests.e2e.conftest import DEFAULT_TIMEOUT_MS
from tests.orders_domain.helpers import order_by_external
from tests.support.channels import channel_of
from tests.support.orders import checkout_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LONG = "W" * 10_000

# Every element that shows one value of the order: fact values, table cells, addresses, the
# buyer's message, the status label in the heading.
VALUE_CELLS = (
    "main dd, main td, main th, main address, main blockquote, main h1, main h2, main h3, "
    "main .status-label, main .card > p"
)

MEASURE = """(selector) => {
  const clipped = [];
  for (const el of document.querySelectorAll(selector)) {
    if (el.scrollWidth > el.clientWidth) {
      clipped.push(`${el.tagName.toLowerCase()} ${el.scrollWidth}>${el.clientWidth}: `
        + el.textContent.trim().slice(0, 40));
    }
  }
  // A value wider than its card spills out of it: the card measures that.
  for (const el of document.querySelectorAll("main .card, main .detail-grid")) {
    if (el.scrollWidth > el.clientWidth) {
      clipped.push(`card ${el.scrollWidth}>${el.clientWidth}: `
        + el.textContent.trim().slice(0, 40));
    }
  }
  const viewport = document.documentElement.clientWidth;
  const wider = [];
  for (const el of document.querySelectorAll("body *")) {
    if (!el.checkVisibility()) continue;  // e.g. a closed menu's items
    const box = el.getBoundingClientRect();
    if (box.width && (box.right > viewport + 0.5 || box.left < -0.5)) {
      wider.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(box.left)}..`
        + `${Math.round(box.right)}`);
    }
  }
  return {
    clipped,
    wider: wider.slice(0, 10),
    pageWidth: document.documentElement.scrollWidth,
    viewport,
  };
}"""


def long_words_form() -> dict:
    form = checkout_form()
    form["buyer"].update(firstName=LONG, lastName=LONG, login="L" * 10_000, email=LONG + "@x.pl")
    form["buyer"]["companyName"] = LONG
    form["delivery"]["address"].update(street=LONG, city=LONG, companyName=LONG)
    form["delivery"]["pickupPoint"].update(name=LONG, description=LONG)
    form["invoice"]["address"]["street"] = LONG
    form["invoice"]["address"]["company"]["name"] = LONG
    form["messageToSeller"] = LONG
    form["lineItems"][0]["offer"]["name"] = LONG
    form["lineItems"][0]["offer"]["external"] = {"id": LONG}
    return form


@pytest.fixture
def open_order(browser: Browser, live_server, tenant, staff_user) -> Iterator:
    """`open_order(form, language, width)`: the order of `form` shown to a logged-in user."""
    from django.conf import settings
    from django.test import Client

    contexts = []
    client = Client()
    client.force_login(staff_user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value

    def _open(form: dict, language: str, width: int) -> Page:
        channel = channel_of(tenant, "AL", "Allegro — sklep główny")
        result = upsert_order_from_checkout_form(channel, form)
        assert result.ok, result.error
        order = order_by_external(tenant, form["id"])
        context = browser.new_context(
            base_url=live_server.url,
            locale="pl-PL" if language == "pl" else "en-US",
            viewport={"width": width, "height": 900},
        )
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
        )
        page = context.new_page()
        page.goto(f"/app/{tenant.slug}/orders/{order.pk}/")
        return page

    yield _open
    for context in contexts:
        context.close()


def assert_nothing_cut(page: Page, width: int) -> None:
    measured = page.evaluate(MEASURE, VALUE_CELLS)
    assert measured["clipped"] == []
    assert measured["wider"] == []
    assert measured["viewport"] == width
    assert measured["pageWidth"] == width


@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize("width", [1366, 390, 1920, 1280])
def test_a_realistic_order_shows_every_value_whole(open_order, language, width):
    page = open_order(checkout_form(), language, width)
    heading = "Zamówienie" if language == "pl" else "Order"
    assert page.locator("h1").inner_text().startswith(heading)
    ready = "Gotowe do realizacji" if language == "pl" else "Ready for processing"
    assert page.locator("dd", has_text=ready).count() == 1
    assert_nothing_cut(page, width)


@pytest.mark.parametrize("language", ["pl", "en"])
@pytest.mark.parametrize("width", [1366, 390, 1920])
def test_ten_thousand_character_words_wrap_inside_their_cards(open_order, language, width):
    page = open_order(long_words_form(), language, width)
    assert page.locator("blockquote.buyer-message").inner_text() == LONG
    assert_nothing_cut(page, width)
