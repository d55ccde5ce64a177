"""Browser journey: an administrator maps statuses, changes an order's status and adds a
shipment; a real Celery worker pushes both to Allegro (the sandbox), whose seller page shows the
new fulfillment status, then the waybill and SENT."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.fulfillment.conftest import channel, push_env  # noqa: F401 (fixtures)
from tests.fulfillment.helpers import SELLER
from tests.support.orders import import_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _row_of(page: Page, sandbox_url: str, external_id: str, text: str, timeout: float = 30.0):
    """Open the sandbox's seller page until the order's row contains ``text``."""
    deadline = time.monotonic() + timeout
    # The orders table comes first; the journal below repeats the id.
    row = page.locator("tr", has=page.locator(f"code:text-is('{external_id}')")).first
    while True:
        page.goto(f"{sandbox_url}/__sandbox__/seller/{SELLER}")
        if text in (row.inner_text() if row.count() else ""):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"sandbox row of {external_id} never showed {text!r}")
        time.sleep(0.5)


def test_status_mapping_status_change_and_shipment_reach_allegro(
    page: Page,
    tenant,
    admin_user,
    log_in,
    channel,  # noqa: F811
    push_env,  # noqa: F811
    celery_processes,
    screenshot,
):
    [order] = import_orders(channel, push_env.sandbox, 1)
    celery_processes(push_env.worker_env(FULFILLMENT_SWEEP_SECONDS="2"), beat=False)
    log_in(admin_user)

    # Channel page → Status mappings: "Nowe" (New) now sets READY_FOR_PICKUP, "W realizacji"
    # keeps its default PROCESSING.
    page.goto(f"/app/{tenant.slug}/administration/channels/{channel.pk}/")
    page.get_by_role("link", name="Status mappings").click()
    expect(page.locator("h1")).to_have_text("Status mappings")
    expect(page.locator('[data-field="cancel-note"]')).to_contain_text("only while")
    expect(page.get_by_label("W realizacji", exact=True)).to_have_value("PROCESSING")
    assert page.locator("option[value=RETURNED]").count() == 0
    page.get_by_label("Wysłane", exact=True).select_option("SENT")
    page.get_by_label("Do wysłania", exact=True).select_option("READY_FOR_PICKUP")
    screenshot(page, "status-mappings")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_have_text("The status mappings were saved.")

    # The order: change its status to "Do wysłania" → READY_FOR_PICKUP on Allegro.
    page.goto(f"/app/{tenant.slug}/orders/{order.pk}/")
    page.locator("select[name=status]").select_option(label="Do wysłania")
    page.get_by_role("button", name="Change status").click()
    expect(page.locator(".messages")).to_contain_text("Status changed")
    sandbox_url = push_env.sandbox.base_url
    _row_of(page, sandbox_url, order.external_id, "READY_FOR_PICKUP (1)")

    # Add a shipment: the sandbox gets the waybill and the order becomes SENT there.
    page.goto(f"/app/{tenant.slug}/orders/{order.pk}/")
    page.get_by_label("Carrier", exact=True).select_option("DPD")
    page.get_by_label("Tracking number").fill("DPD555000111")
    expect(page.get_by_label("Comment")).to_have_value(
        f"Paczka do {order.number}: {{shipment.waybill}}"
    )
    page.get_by_role("button", name="Add shipment").click()
    expect(page.locator(".messages")).to_have_text(
        "Shipment DPD555000111 added; it is being sent to Allegro."
    )
    row = _row_of(page, sandbox_url, order.external_id, "SENT (2)")
    expect(row).to_contain_text("DPD555000111")
    screenshot(page, "sandbox-seller-after-push")

    # Back in apilo the timeline says what went out.
    page.goto(f"/app/{tenant.slug}/orders/{order.pk}/")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text("Passed on to Allegro: shipment DPD555000111.")
    expect(timeline).to_contain_text("Passed on to Allegro: fulfillment status “Sent”.")
    expect(page.locator('[data-field="shipments"]')).to_contain_text(
        f"Paczka do {order.number}: DPD555000111"
    )
