"""Browser journey: an administrator adds a courier account (Administracja → Kurierzy), makes a
label from the order page (a real Celery worker reads Allegro's delivery proposal, sends the
create command, reads the waybill and the file), opens it to print, and the sandbox's seller
page shows the waybill and SENT."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.fulfillment.helpers import SELLER
from tests.labels.conftest import channel, push_env  # noqa: F401 (fixtures)
from tests.support.orders import import_orders

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sandbox_row(page: Page, sandbox_url: str, external_id: str, text: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    row = page.locator("tr", has=page.locator(f"code:text-is('{external_id}')")).first
    while True:
        page.goto(f"{sandbox_url}/__sandbox__/seller/{SELLER}")
        if text in (row.inner_text() if row.count() else ""):
            return row
        if time.monotonic() > deadline:
            raise AssertionError(f"sandbox row of {external_id} never showed {text!r}")
        time.sleep(0.5)


def test_courier_account_label_from_the_order_page_print_and_sent(
    page: Page,
    tenant,
    admin_user,
    log_in,
    channel,  # noqa: F811
    push_env,  # noqa: F811
    celery_processes,
    screenshot,
):
    [order] = import_orders(channel, push_env.sandbox, 1, delivery="courier", seed=41)
    push_env.sandbox.wza(command_seconds=1)
    celery_processes(
        push_env.worker_env(FULFILLMENT_SWEEP_SECONDS="2", LABELS_SWEEP_SECONDS="2"), beat=True
    )
    log_in(admin_user)

    page.goto(f"/app/{tenant.slug}/administration/fulfillment/couriers/")
    page.get_by_role("link", name="Add courier account").click()
    page.locator("#id_name").fill("Kurier główny")
    page.locator("#id_channel").select_option(str(channel.pk))
    page.locator("#id_sender_name").fill("Jan Sprzedawca")
    page.locator("#id_street").fill("Główna 30")
    page.locator("#id_postal_code").fill("60-166")
    page.locator("#id_city").fill("Poznań")
    page.locator("#id_email").fill("wysylki@alfa.example")
    page.locator("#id_phone").fill("500600700")
    page.locator("#id_length_cm").fill("30")
    page.locator("#id_width_cm").fill("20")
    page.locator("#id_height_cm").fill("10")
    page.locator("#id_weight_kg").fill("1.5")
    screenshot(page, "courier-account")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_have_text("The courier account “Kurier główny” was saved.")

    page.goto(f"/app/{tenant.slug}/orders/{order.pk}/")
    page.locator("#labels").get_by_role("link", name="Make a label").click()
    # the worker reads Allegro's delivery proposal; the page shows its limits when it has it
    expect(page.locator('[data-field="limits"]')).to_contain_text("150 × 100 × 100 cm")
    expect(page.locator('[data-field="label-text-preview"]')).to_have_text(
        f"Zamówienie {order.number} – dziękujemy!"
    )
    page.get_by_role("button", name="Add a parcel").click()
    expect(page.locator("#parcels tr.parcel")).to_have_count(2)
    screenshot(page, "label-page")
    page.get_by_role("button", name="Make label").click()
    expect(page.locator(".messages")).to_contain_text("The label is being made")
    labels = page.locator("#labels")
    expect(labels.locator('[data-field="label-state"]').first).to_have_text(
        "Label ready", timeout=30_000
    )
    waybills = labels.locator('[data-field="label-waybill"]').first.inner_text()
    assert len(waybills.split(", ")) == 2
    link = labels.get_by_role("link", name="Show and print")
    pdf = page.request.get(link.get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    screenshot(page, "order-with-label")

    row = _sandbox_row(page, push_env.sandbox.base_url, order.external_id, "SENT (1)")
    expect(row).to_contain_text(waybills.split(", ")[0])
