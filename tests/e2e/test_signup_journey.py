"""The first journey: a visitor signs up, lands in the back office, adds a custom status and
sees it in the list."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from core.models import Membership, Tenant
from orders.models import OrderStatus
from tests.factories import in_scope

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_up_then_add_a_custom_status(page: Page, screenshot, console_errors):
    page.goto("/accounts/signup/")
    form = page.locator("form:has([name=company_slug])")
    form.locator("[name=email]").fill("owner@gamma.example")
    form.locator("[name=password1]").fill("Zielony-Rower-2024!")
    form.locator("[name=password2]").fill("Zielony-Rower-2024!")
    form.locator("[name=company_name]").fill("Sklep Gamma")
    form.locator("[name=company_slug]").fill("gamma")
    screenshot(page, "signup")
    form.locator("[type=submit]").click()

    expect(page).to_have_url(re.compile(r"/app/gamma/$"))
    expect(page.locator("h1")).to_have_text("Sklep Gamma")

    page.locator("summary", has_text="Administration").click()
    page.get_by_role("link", name="Order statuses", exact=True).click()
    expect(page.locator("h1")).to_have_text("Order statuses")
    console_errors.clear()  # from here on, every page is one of the statuses pages
    page.get_by_role("link", name="Add status").click()
    page.get_by_label("Name", exact=True).fill("Czeka na dostawę")
    page.get_by_label("Colour").fill("#be185d")
    page.get_by_label("Order-list tab").select_option(label="In progress")
    page.get_by_role("button", name="Add status").click()

    expect(page.locator(".messages")).to_have_text("Status “Czeka na dostawę” added.")
    names = page.locator("#statuses td.status-name a")
    expect(names).to_have_count(8)
    expect(names.last).to_have_text("Czeka na dostawę")

    tenant = Tenant.objects.get(slug="gamma")
    owner = get_user_model().objects.get(email="owner@gamma.example")
    assert tenant.name == "Sklep Gamma"
    assert list(Membership.objects.filter(tenant=tenant).values_list("user", "role")) == [
        (owner.pk, "administrator")
    ]
    with in_scope(tenant):
        assert list(
            OrderStatus.objects.filter(system_code="").values_list(
                "name", "buyer_name", "colour", "group", "is_active", "locked"
            )
        ) == [("Czeka na dostawę", "", "#be185d", "in_progress", True, False)]
    assert console_errors == []
