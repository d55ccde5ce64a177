"""The messages journey in a real Chromium: an administrator adds a mailbox (a real aiosmtpd
server) and a template set, picks them on the channel with the seller's address and the customer
zone; a sandbox buyer buys; a real Celery worker and beat import the order and send the seller's
mail and the customer's allowed mail (the forbidden confirmation is held); the customer zone
link from the mail opens the buyer's page, which looks right on a phone."""

from __future__ import annotations

import pytest
from django_scopes import scope, scopes_disabled
from playwright.sync_api import Page, expect

from notifications.models import HoldReason, Mailbox, OutgoingMail, SenderRegistration
from orders.models import Order
from tests.celery_support import wait_until
from tests.support.channels import make_channel
from tests.support.connect import connect
from tests.sync.conftest import (  # noqa: F401 - fixtures of the sync tests, used here too
    allegro_app_options,
    sync_env,
)
from tests.sync.helpers import CHANNEL, SELLER, SELLER_PASSWORD, state_or_none

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SELLER_INBOX = "zamowienia@alfa.example"


def _registered(channel) -> bool:
    with scopes_disabled():
        stored = SenderRegistration.objects.filter(channel_id=channel.pk).first()
    return stored is not None and stored.is_registered("sklep@alfa.example")


def _add_template(page: Page, *, name: str, category: str, subject: str, body: str) -> None:
    page.get_by_role("link", name="Add template").click()
    page.fill("#id_name", name)
    page.select_option("#id_trigger", "order_imported")
    page.select_option("#id_category", category)
    page.fill("#id_subject", subject)
    page.fill("#id_body_text", body)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#templates")).to_contain_text(name)


def test_mailbox_set_and_channel_then_an_order_mails_the_seller_and_the_buyer(
    page: Page,
    tenant,
    admin_user,
    sync_env,  # noqa: F811
    celery_processes,
    smtp_server,
    live_server,
    log_in,
    screenshot,
):
    channel = connect(make_channel(tenant, CHANNEL), admin_user, SELLER_PASSWORD)
    celery_processes(
        sync_env.worker_env(
            SYNC_POLL_TICK_SECONDS=1,
            SYNC_POLL_BUSY_SECONDS=1,
            SYNC_POLL_IDLE_MAX_SECONDS=2,
            SITE_URL=live_server.url,
        )
    )
    not_found: list[str] = []
    page.on("response", lambda r: not_found.append(r.url) if r.status == 404 else None)
    log_in(admin_user)

    # A mailbox on the test's SMTP server.
    page.goto(f"/app/{tenant.slug}/administration/mailboxes/new/")
    page.fill("#id_name", "Sklep Alfa")
    page.fill("#id_from_name", "Sklep Alfa")
    page.fill("#id_from_address", "sklep@alfa.example")
    page.fill("#id_host", smtp_server.host)
    page.fill("#id_port", str(smtp_server.port))
    page.select_option("#id_security", "none")
    page.get_by_role("button", name="Add mailbox").click()
    expect(page.locator("body")).to_contain_text("Sklep Alfa")

    # A template set: a question (sent) and an order confirmation (Allegro forbids it: held).
    page.goto(f"/app/{tenant.slug}/administration/templates/")
    page.fill("#id_name", "Sklep – klienci")
    page.get_by_role("button", name="Add set").click()
    _add_template(
        page,
        name="Pytanie o dostawę",
        category="other",
        subject="Pytanie o zamówienie {order.number}",
        body="Dzień dobry {buyer.name},\nczy paczka może iść do paczkomatu?\n"
        "Zamówienie: {order.customer_zone_url}",
    )
    _add_template(
        page,
        name="Potwierdzenie",
        category="order_confirmation",
        subject="Dziękujemy za zamówienie {order.number}",
        body="Przyjęliśmy zamówienie {order.number}.",
    )

    # The channel: the set, the mailbox, the seller's address, the customer zone.
    page.goto(f"/app/{tenant.slug}/administration/channels/{channel.pk}/edit/")
    page.select_option("#id_template_set", label="Sklep – klienci")
    with scope(tenant=tenant):
        mailbox = Mailbox.objects.get(name="Sklep Alfa")
    page.select_option("#id_mailbox", str(mailbox.pk))
    page.fill("#id_seller_notification_email", SELLER_INBOX)
    page.check("#id_customer_zone")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator("#customer-mails")).to_contain_text("Sklep – klienci")
    expect(page.locator("#category-allowances")).to_contain_text("Held back")
    # Buyers' addresses are Allegro relay addresses: the mailbox's address is registered first.
    page.locator("[data-action=register-sender]").click()
    wait_until(lambda: _registered(channel), 30, "the sender address registered in Allegro")
    page.reload()
    expect(page.locator("[data-field=registration]")).to_have_attribute("data-registered", "yes")

    wait_until(
        lambda: (s := state_or_none(channel)) and s.cursor_bootstrapped_at, 30, "the first poll"
    )
    [external_id] = sync_env.sandbox.create_orders(SELLER, 1)

    def _rows() -> list[tuple[str, str, str]]:
        with scopes_disabled():
            return list(OutgoingMail.objects.values_list("kind", "state", "reply_text"))

    wait_until(lambda: len(_rows()) == 3, 30, "the order's three mails in the outbox")
    wait_until(
        lambda: sorted(state for _kind, state, _reply in _rows()) == ["held", "sent", "sent"],
        30,
        f"the seller's and the customer's mail sent: {_rows()}",
    )
    arrived = smtp_server.wait_for(2, timeout=10)
    by_recipient = {mail.to[0]: mail for mail in arrived}
    with scope(tenant=tenant):
        order = Order.objects.get(external_id=external_id)
    buyer_address = order.buyer_email
    assert set(by_recipient) == {SELLER_INBOX, buyer_address}
    seller_mail = by_recipient[SELLER_INBOX]
    assert seller_mail.subject.startswith(f"New order {order.number} from {channel.name}")
    assert f"{live_server.url}/app/{tenant.slug}/orders/{order.pk}/" in seller_mail.text
    customer_mail = by_recipient[buyer_address]
    assert customer_mail.subject == f"Pytanie o zamówienie {order.number}"
    assert customer_mail.envelope_from == "sklep@alfa.example"
    with scopes_disabled():
        held = OutgoingMail.objects.get(order_id=order.pk, category="order_confirmation")
    assert (held.state, held.hold_reason) == ("held", HoldReason.ALLEGRO_CATEGORY)

    # The buyer opens the customer zone link from the mail, on a phone.
    link = customer_mail.first_link(startswith=f"{live_server.url}/o/")
    page.set_viewport_size({"width": 390, "height": 844})
    page.context.clear_cookies()
    page.goto(link)
    expect(page.locator("h1")).to_contain_text(order.number)
    expect(page.locator("body")).to_contain_text(order.delivery_method_name)
    no_sideways_scroll = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert no_sideways_scroll
    screenshot(page, "customer-zone-phone")

    # Staff sees both mails and the hold on the order's timeline.
    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(admin_user)
    page.goto(f"/app/{tenant.slug}/orders/{order.pk}/")
    timeline = page.locator("ol.timeline")
    expect(timeline).to_contain_text(f"Pytanie o zamówienie {order.number}")
    expect(timeline).to_contain_text("Allegro forbids this category since 20 Oct 2025")
    # Chromium's own favicon request answers 404 in the console; the pages' requests must not.
    assert not_found == []
