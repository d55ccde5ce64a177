"""Browser journey: an administrator adds an Allegro channel, clicks Authorize, signs in and
confirms on the (sandbox) Allegro page, and is back in the back office, connected."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from channels.models import AllegroCredential, SalesChannel
from tests.channels.helpers import (
    SELLER_ID,
    SELLER_LOGIN,
    SELLER_PASSWORD,
    TEST_FERNET_KEY,
    configure_environment,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def allegro_for_browser(allegro_sandbox, live_server, settings):
    settings.APILO_FERNET_KEYS = f"t1:{TEST_FERNET_KEY}"
    env = configure_environment(
        settings, allegro_sandbox, f"{live_server.url}/channels/allegro/callback/"
    )
    allegro_sandbox.create_seller(SELLER_LOGIN, SELLER_PASSWORD, id=SELLER_ID, offers=0)
    return env


def test_an_administrator_connects_an_allegro_account(
    page: Page, tenant, admin_user, log_in, allegro_for_browser, console_errors, screenshot
):
    log_in(admin_user)
    page.goto(f"/app/{tenant.slug}/")
    page.locator("summary", has_text="Administration").click()
    page.get_by_role("link", name="Sales channels", exact=True).click()
    expect(page.locator("h1")).to_have_text("Sales channels")
    page.get_by_role("link", name="Add → Allegro").click()

    page.get_by_label("Name", exact=True).fill("Allegro – główne konto")
    page.get_by_label("Alias").fill("al")
    page.get_by_label("Allegro login").fill(SELLER_LOGIN)
    page.get_by_label("Pass shipment information to Allegro").check()
    page.get_by_label("Customer zone").check()
    page.get_by_label("Seller notification e-mail address").fill("zamowienia@alfa.example")
    page.get_by_label("Default shipment comment").fill("Zamówienie {order.number}")
    page.get_by_label("Allegro environment").select_option("local")
    page.get_by_label("Days of past orders to import").fill("14")
    screenshot(page, "allegro-channel-form")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".messages")).to_have_text(
        "The sales channel was saved. Now click “Authorize” to connect it to Allegro."
    )
    page.get_by_role("button", name="Authorize", exact=True).click()

    # On Allegro (the sandbox): sign in, then confirm the account.
    expect(page).to_have_url(re.compile("^" + re.escape(allegro_for_browser.sandbox.base_url)))
    page.get_by_label("Login lub e-mail").fill(SELLER_LOGIN)
    page.get_by_label("Hasło").fill(SELLER_PASSWORD)
    page.get_by_role("button", name="Zaloguj się").click()
    expect(page.get_by_text(f"Jesteś zalogowany jako {SELLER_LOGIN}")).to_be_visible()
    page.get_by_role("button", name="Potwierdź").click()

    # Back in the back office.
    expect(page.locator(".messages")).to_have_text(f"Connected to Allegro as {SELLER_LOGIN}.")
    expect(page.locator('[data-field="connected-login"]')).to_have_text(SELLER_LOGIN)
    expect(page.locator('[data-field="connected-seller-id"]')).to_have_text(SELLER_ID)
    expect(page.locator("main .badge.ok")).to_have_text("Connected")
    screenshot(page, "allegro-channel-connected")
    # (The sandbox's pages have no favicon: clear its 404s, then our page must be clean.)
    console_errors.clear()
    page.reload()
    expect(page.locator('[data-field="connected-login"]')).to_have_text(SELLER_LOGIN)
    assert console_errors == []

    with scope(tenant=tenant):
        channel = SalesChannel.objects.get()
        assert AllegroCredential.objects.filter(channel=channel).count() == 1
    assert (channel.alias, channel.connection_state, channel.connected_login) == (
        "AL", "connected", SELLER_LOGIN
    )  # fmt: skip
    assert allegro_for_browser.token_calls()["ok"] == {"authorization_code": 1}
