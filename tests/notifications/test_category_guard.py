"""The category guard: mails Allegro forbids (REFERENCE §11) are held for its buyers unless an
administrator allowed the category on the channel; "question or other" is sent."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope

from notifications.models import CategoryAllowance, HoldReason
from tests.notifications.template_helpers import BUYER, import_form, mails
from tests.support.notifications import template_of

pytestmark = pytest.mark.django_db


def test_a_forbidden_category_is_held_and_a_question_is_queued(tenant, shop, template_set):
    confirmation = template_of(
        tenant, template_set, name="Potwierdzenie", category="order_confirmation"
    )
    question = template_of(tenant, template_set, name="Pytanie", category="other")
    order = import_form(shop)

    rows = {m.dedupe_key: m for m in mails(order_id=order.pk, kind="customer")}
    held = rows[f"template:{confirmation.pk}:order:{order.pk}:imported"]
    sent = rows[f"template:{question.pk}:order:{order.pk}:imported"]
    assert (held.state, held.hold_reason, held.category) == (
        "held",
        HoldReason.ALLEGRO_CATEGORY,
        "order_confirmation",
    )
    assert (sent.state, sent.hold_reason, sent.to_address) == ("queued", "", BUYER)
    assert sent.subject == f"Pytanie o zamówienie {order.number}"
    assert len(rows) == 2


@pytest.mark.parametrize(
    "category",
    ["order_confirmation", "status_update", "tracking", "payment_reminder", "thanks", "invoice"],
)
def test_every_category_allegro_forbids_is_held(tenant, shop, template_set, category):
    template_of(tenant, template_set, category=category)
    order = import_form(shop)
    [row] = mails(order_id=order.pk)
    assert (row.state, row.hold_reason) == ("held", HoldReason.ALLEGRO_CATEGORY)


def test_allowed_by_an_administrator_after_reading_why_it_is_sent(
    client, tenant, admin_user, shop, template_set
):
    template_of(tenant, template_set, category="tracking")
    client.force_login(admin_user)
    url = reverse(
        "administration:templates:channel_categories",
        kwargs={"tenant_slug": tenant.slug, "channel_id": shop.pk},
    )
    # Without ticking "I have read why": nothing is allowed.
    client.post(url, {"category": "tracking", "action": "allow"})
    with scope(tenant=tenant):
        assert not CategoryAllowance.objects.exists()
    client.post(url, {"category": "tracking", "action": "allow", "understood": "yes"})
    with scope(tenant=tenant):
        allowance = CategoryAllowance.objects.get()
    assert (allowance.channel_id, allowance.category, allowance.allowed_by) == (
        shop.pk,
        "tracking",
        admin_user,
    )
    order = import_form(shop)
    [row] = mails(order_id=order.pk)
    assert (row.state, row.hold_reason) == ("queued", "")

    # Withdrawn: held again.
    client.post(url, {"category": "tracking", "action": "withdraw"})
    second = import_form(shop)
    [row] = mails(order_id=second.pk)
    assert (row.state, row.hold_reason) == ("held", HoldReason.ALLEGRO_CATEGORY)


def test_the_allowance_of_one_channel_does_not_open_another(tenant, shop, template_set):
    from tests.support.channels import channel_of

    other = channel_of(tenant, "BB", "Allegro drugie")
    with scope(tenant=tenant):
        type(other).objects.filter(pk=other.pk).update(template_set=template_set)
        other.refresh_from_db()
        from notifications.template_sets import allow_category

        allow_category(shop, "tracking", None)  # type: ignore[arg-type]
    template_of(tenant, template_set, category="tracking")
    order = import_form(other)
    [row] = mails(order_id=order.pk)
    assert row.state == "held"


def test_the_hold_is_on_the_orders_timeline(client, tenant, admin_user, shop, template_set):
    template_of(tenant, template_set, category="thanks", subject="Dziękujemy za {order.number}")
    order = import_form(shop)
    client.force_login(admin_user)
    page = client.get(
        reverse("orders:detail", kwargs={"tenant_slug": tenant.slug, "order_id": order.pk})
    ).content.decode()
    assert f"Dziękujemy za {order.number}" in page
    assert "Allegro forbids this category since 20 Oct 2025" in page
