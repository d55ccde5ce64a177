"""Administracja → Kanały sprzedaży in Chromium, as a new seller sees it (Polish, 1366 px): the
alias field says why it takes only two letters, and deleting a channel asks first."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect

from channels.models import SalesChannel
from tests.factories import in_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def polish(page: Page, live_server) -> Page:
    """The seller's Polish UI (the language switcher's cookie) on a 1366 px wide screen."""
    page.set_viewport_size({"width": 1366, "height": 768})
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "pl", "url": live_server.url}]
    )
    return page


def test_typing_a_third_letter_into_the_alias_says_why_it_stops(
    polish: Page, tenant, admin_user, log_in, console_errors, screenshot
):
    page = polish
    log_in(admin_user)
    page.goto(f"/app/{tenant.slug}/", wait_until="networkidle")
    console_errors.clear()  # the browser's favicon look-up; from here on, our pages
    page.goto(f"/app/{tenant.slug}/administration/channels/add/")
    expect(page.locator("h1")).to_have_text("Nowy kanał Allegro")
    alias = page.get_by_label("Alias", exact=True)
    hint = page.locator('[data-limit-hint-for="id_alias"]')
    alias.press_sequentially("al")
    expect(alias).to_have_value("al")
    expect(hint).to_have_text("")  # two letters are fine: nothing to say yet

    alias.press_sequentially("x")
    expect(hint).to_have_text(
        "Zmieszczą się tylko dwie litery: alias to dokładnie dwie litery A–Z, od których "
        "zaczyna się numer każdego zamówienia z tego kanału (np. AL2611000017)."
    )
    expect(alias).to_have_value("al")
    screenshot(page, "channel-alias-hint")

    # Deleting a letter makes room again, and the hint goes.
    alias.press("Backspace")
    expect(alias).to_have_value("a")
    expect(hint).to_have_text("")
    assert console_errors == []


def test_deleting_a_channel_asks_first_and_names_what_happens(
    polish: Page, tenant, admin_user, log_in, console_errors, screenshot
):
    page = polish
    with in_scope(tenant):
        channel = SalesChannel.objects.create(
            tenant=tenant,
            name="Allegro – testowe",
            alias="AT",
            allegro_login="sklep-testowy",
            allegro_environment="local",
        )
    log_in(admin_user)
    page.goto(f"/app/{tenant.slug}/", wait_until="networkidle")
    console_errors.clear()  # the browser's favicon look-up; from here on, our pages
    page.goto(f"/app/{tenant.slug}/administration/channels/{channel.pk}/")
    settings_card = page.locator("#settings")
    expect(settings_card.get_by_role("button", name="Dezaktywuj")).to_have_count(1)
    settings_card.get_by_role("link", name="Usuń…").click()

    expect(page.locator("h1")).to_have_text("Usunąć kanał sprzedaży „Allegro – testowe”?")
    expect(page.locator('[data-field="order-count"]')).to_have_text("0")
    screenshot(page, "channel-delete-confirmation")
    page.get_by_role("button", name="Usuń kanał").click()

    expect(page).to_have_url(re.compile(rf"/app/{tenant.slug}/administration/channels/$"))
    expect(page.locator(".messages")).to_have_text("Kanał sprzedaży został usunięty.")
    with in_scope(tenant):
        assert SalesChannel.objects.filter(pk=channel.pk).exists() is False
    assert console_errors == []
