"""A sandbox buyer buys → a real Celery worker and beat poll the journal → the order appears in
the open order list without a reload → staff opens it and changes its status."""

from __future__ import annotations

import re

import pytest
from django_scopes import scope
from playwright.sync_api import Page, expect

from orders.models import Order, OrderStatus, SystemStatus
from tests.celery_support import wait_until
from tests.support.channels import make_channel
from tests.support.connect import connect
from tests.sync.conftest import (  # noqa: F401 - fixtures of the sync tests, used here too
    allegro_app_options,
    sync_env,
)
from tests.sync.helpers import CHANNEL, SELLER, SELLER_PASSWORD, state_or_none

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _imported(tenant, external_id: str) -> bool:
    with scope(tenant=tenant):
        return Order.objects.filter(external_id=external_id).exists()


def test_a_new_allegro_order_appears_live_and_staff_moves_it_on(
    page: Page,
    tenant,
    admin_user,
    staff_user,
    sync_env,  # noqa: F811
    celery_processes,
    log_in,
    screenshot,
    console_errors,
):
    channel = connect(make_channel(tenant, CHANNEL), admin_user, SELLER_PASSWORD)
    celery_processes(
        sync_env.worker_env(
            SYNC_POLL_TICK_SECONDS=1, SYNC_POLL_BUSY_SECONDS=1, SYNC_POLL_IDLE_MAX_SECONDS=2
        )
    )
    wait_until(
        lambda: (s := state_or_none(channel)) and s.cursor_bootstrapped_at, 30, "the first poll"
    )

    not_found: list[str] = []
    page.on("response", lambda r: not_found.append(r.url) if r.status == 404 else None)
    log_in(staff_user)
    page.goto(f"/app/{tenant.slug}/orders/")
    rows = page.locator("#order-rows tr.order-row")
    expect(rows).to_have_count(0)

    [external_id] = sync_env.sandbox.create_orders(SELLER, 1)
    buyer = sync_env.sandbox.order(external_id)["checkoutForm"]["buyer"]["login"]

    wait_until(lambda: _imported(tenant, external_id), 20, "the order in the database")
    # No reload: the list's own refresh (every 10 s) brings the row within poll + refresh.
    expect(rows).to_have_count(1, timeout=25_000)
    row = rows.first
    expect(row).to_contain_text(buyer)
    expect(row).to_contain_text(external_id[:10])
    screenshot(page, "order-arrived")
    with scope(tenant=tenant):
        order = Order.objects.select_related("status").get(external_id=external_id)
        in_progress = OrderStatus.objects.get(system_code=SystemStatus.IN_PROGRESS)
    assert order.status.system_code == SystemStatus.NEW

    row.get_by_role("link", name=order.number).click()
    expect(page).to_have_url(re.compile(rf"/orders/{order.pk}/$"))
    page.locator("select[name=status]").select_option(str(in_progress.pk))
    page.get_by_role("button", name="Change status").click()

    expect(page.locator("body")).to_contain_text(in_progress.name)
    with scope(tenant=tenant):
        assert Order.objects.get(pk=order.pk).status_id == in_progress.pk
    # Known noise outside the sync engine: the browser's own favicon
    # request (404, not a page resource) and htmx warning that the empty order list has no
    # checkboxes for its hx-include.
    noise = ("Failed to load resource", 'The selector "#order-rows [name=order_ids]"')
    assert not_found == []
    assert [e for e in console_errors if not e.startswith(noise)] == []
