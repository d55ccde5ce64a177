"""Administracja → Statusy zamówień driven in Chromium: add, edit, move, deactivate, and a
built-in status that offers no delete or deactivate and says why."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from orders.models import OrderStatus
from tests.factories import in_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def names_on_page(page: Page) -> list[str]:
    return page.locator("#statuses td.status-name a").all_inner_texts()


def row(page: Page, name: str):
    return page.locator("#statuses tbody tr").filter(
        has=page.get_by_role("link", name=name, exact=True)
    )


def stored(tenant) -> list[tuple]:
    with in_scope(tenant):
        return list(
            OrderStatus.objects.order_by("position", "pk").values_list(
                "name", "buyer_name", "colour", "group", "position", "is_active", "locked"
            )
        )


def test_an_administrator_manages_the_order_statuses(
    page: Page, tenant, admin_user, log_in, screenshot, console_errors
):
    log_in(admin_user)
    page.goto(f"/app/{tenant.slug}/")
    page.locator("summary", has_text="Administration").click()
    page.get_by_role("link", name="Order statuses", exact=True).click()
    expect(page.locator("h1")).to_have_text("Order statuses")
    console_errors.clear()  # from here on, every page is one of the statuses pages
    assert names_on_page(page) == [
        "Niepotwierdzone", "Nowe", "W realizacji", "Do wysłania", "Wysłane", "Anulowane",
        "Zwrócone",
    ]  # fmt: skip

    # Add a status with a colour.
    page.get_by_role("link", name="Add status").click()
    page.get_by_label("Name", exact=True).fill("Reklamacja")
    page.get_by_label("Name shown to the buyer").fill("Reklamacja w toku")
    page.get_by_label("Colour").fill("#0ea5e9")
    page.get_by_label("Order-list tab").select_option(label="Other")
    page.get_by_role("button", name="Add status").click()
    expect(page.locator(".messages")).to_have_text("Status “Reklamacja” added.")
    expect(row(page, "Reklamacja").locator("rect")).to_have_attribute("fill", "#0ea5e9")
    assert names_on_page(page)[-1] == "Reklamacja"

    # Edit it.
    row(page, "Reklamacja").get_by_role("link", name="Edit").click()
    expect(page.locator("h1")).to_have_text("Edit status “Reklamacja”")
    page.get_by_label("Name", exact=True).fill("Reklamacja klienta")
    page.get_by_label("Colour").fill("#f97316")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_have_text("Status “Reklamacja klienta” saved.")
    expect(row(page, "Reklamacja klienta").locator("rect")).to_have_attribute("fill", "#f97316")

    # Move it up, above "Zwrócone".
    page.get_by_role("button", name="Move Reklamacja klienta up").click()
    expect(page.locator("#statuses td.status-name a").nth(6)).to_have_text("Reklamacja klienta")
    assert names_on_page(page)[-2:] == ["Reklamacja klienta", "Zwrócone"]

    # Deactivate it.
    row(page, "Reklamacja klienta").get_by_role("button", name="Deactivate").click()
    expect(page.locator(".messages")).to_have_text(
        "Status “Reklamacja klienta” is no longer offered for orders."
    )
    expect(row(page, "Reklamacja klienta").locator("td.status-active")).to_have_text("Inactive")

    # A built-in status offers neither Deactivate nor Delete, and says why.
    cancelled = row(page, "Anulowane")
    expect(cancelled.get_by_role("button", name="Delete")).to_have_count(0)
    expect(cancelled.get_by_role("button", name="Deactivate")).to_have_count(0)
    expect(cancelled.locator("[data-field=locked-why]")).to_have_text(
        "Built-in: the order import needs it, so it stays active and cannot be deleted."
    )
    expect(page).to_have_url(re.compile(rf"/app/{tenant.slug}/administration/statuses/$"))
    screenshot(page, "statuses")

    assert stored(tenant) == [
        ("Niepotwierdzone", "Oczekuje na płatność", "#9ca3af", "other", 1, True, True),
        ("Nowe", "Przyjęte", "#2563eb", "new", 2, True, True),
        ("W realizacji", "W realizacji", "#d97706", "in_progress", 3, True, False),
        ("Do wysłania", "Przygotowane do wysyłki", "#7c3aed", "to_ship", 4, True, False),
        ("Wysłane", "Wysłane", "#16a34a", "completed", 5, True, False),
        ("Anulowane", "Anulowane", "#dc2626", "completed", 6, True, True),
        ("Reklamacja klienta", "Reklamacja w toku", "#f97316", "other", 7, False, False),
        ("Zwrócone", "Zwrócone", "#6b7280", "completed", 8, True, False),
    ]
    assert console_errors == []
