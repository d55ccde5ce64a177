"""What orders do to stock: a paid order (READY_FOR_PROCESSING) takes its goods once per order
and product, however often it is imported again (journal, reconciliation sweeps, re-imports);
a cancellation before shipping gives them back once, and only what was taken."""

from __future__ import annotations

import copy
import uuid

import pytest
from django_scopes import scope

from orders.changes import change_order_status
from orders.ingest import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms
from orders.models import Order, SystemStatus
from tests.catalog.helpers_stock import changes_of, link_lines, offer_of, product_of, stock_of
from tests.support.channels import channel_of
from tests.support.orders import checkout_form, status_of

pytestmark = pytest.mark.django_db

OFFER_ID = "3213213"  # the example form's offer


def _form(status: str, **overrides):
    """A form of one product in two lines: 2 + 3 pieces of the same offer."""
    form = checkout_form(status=status, **overrides)
    second = copy.deepcopy(form["lineItems"][0])
    second["id"] = str(uuid.uuid4())
    form["lineItems"][0]["quantity"] = 2
    second["quantity"] = 3
    form["lineItems"].append(second)
    return form


def _again(form, **changes):
    """The same checkout form as Allegro serves it later (a new revision)."""
    later = copy.deepcopy(form)
    later["revision"] = uuid.uuid4().hex[:8]
    later.update(changes)
    return later


def _import(channel, form, **kw) -> Order:
    result = upsert_order_from_checkout_form(channel, form, **kw)
    assert result.ok, result.error
    with scope(tenant=channel.tenant):
        return Order.objects.select_related("status", "channel").get(pk=result.order_id)


@pytest.fixture
def world(tenant):
    channel = channel_of(tenant)
    product = product_of(tenant, "Kubek", sku="KUB-1", stock=20)
    offer_of(channel, OFFER_ID, product)
    return channel, product


def _linked_unpaid(channel):
    """An order imported unpaid, its lines linked (as the products' linking does on import)."""
    form = _form("BOUGHT")
    order = _import(channel, form)
    link_lines(order)
    return form, order


def test_a_paid_order_takes_its_goods_once_across_every_import(world):
    channel, product = world
    form, order = _linked_unpaid(channel)
    assert stock_of(product) == 20  # not paid: nothing taken

    paid = _again(form, status="READY_FOR_PROCESSING")
    _import(channel, paid)
    assert stock_of(product) == 15

    # The journal serves the paid form again, a reconciliation sweep reads it in a batch, a
    # re-import of past days reads it once more.
    _import(channel, _again(paid))
    result = upsert_orders_from_checkout_forms(channel, [_again(paid), _again(paid)])
    assert all(r.ok for r in result.results)
    _import(channel, _again(paid), backfill=True)

    assert stock_of(product) == 15
    assert changes_of(product) == [("sold", -5, 15, f"sold:{order.pk}:{product.pk}")]


def test_an_order_imported_paid_with_lines_linked_later_is_taken_on_its_next_import(world):
    channel, product = world
    form = _form("READY_FOR_PROCESSING")
    order = _import(channel, form)
    link_lines(order)
    _import(channel, _again(form))
    _import(channel, _again(form))
    assert changes_of(product) == [("sold", -5, 15, f"sold:{order.pk}:{product.pk}")]


def test_a_backfilled_paid_order_moves_no_stock(world):
    channel, product = world
    form, _order = _linked_unpaid(channel)
    _import(channel, _again(form, status="READY_FOR_PROCESSING"), backfill=True)
    assert stock_of(product) == 20
    assert changes_of(product) == []


def test_allegro_cancelling_a_paid_order_gives_its_goods_back_once(world):
    channel, product = world
    form, order = _linked_unpaid(channel)
    paid = _again(form, status="READY_FOR_PROCESSING")
    _import(channel, paid)
    cancelled = _again(paid, status="CANCELLED")
    again = _import(channel, cancelled)
    _import(channel, _again(cancelled))
    assert again.status.system_code == SystemStatus.CANCELLED
    assert stock_of(product) == 20
    assert changes_of(product) == [
        ("sold", -5, 15, f"sold:{order.pk}:{product.pk}"),
        ("restored", 5, 20, f"restored:{order.pk}:{product.pk}"),
    ]


def test_the_sellers_cancellation_gives_the_goods_back_once(world, admin_user):
    channel, product = world
    form, order = _linked_unpaid(channel)
    _import(channel, _again(form, status="READY_FOR_PROCESSING"))
    tenant = channel.tenant
    cancelled, new = status_of(tenant, SystemStatus.CANCELLED), status_of(tenant, SystemStatus.NEW)
    with scope(tenant=tenant):
        order = Order.objects.select_related("status", "channel").get(pk=order.pk)
        change_order_status(order, cancelled, admin_user)
        change_order_status(order, new, admin_user)
        change_order_status(order, cancelled, admin_user)  # cancelled a second time
    assert stock_of(product) == 20
    assert [c[0] for c in changes_of(product)] == ["sold", "restored"]


def test_a_cancellation_after_allegro_says_sent_gives_nothing_back(world):
    channel, product = world
    form, _order = _linked_unpaid(channel)
    paid = _again(form, status="READY_FOR_PROCESSING")
    _import(channel, paid)
    sent = _again(paid, fulfillment={**paid["fulfillment"], "status": "SENT"})
    _import(channel, sent)
    _import(channel, _again(sent, status="CANCELLED"))
    assert stock_of(product) == 15
    assert [c[0] for c in changes_of(product)] == ["sold"]


def test_a_cancellation_of_a_shipped_order_gives_nothing_back(world, admin_user):
    channel, product = world
    form, order = _linked_unpaid(channel)
    _import(channel, _again(form, status="READY_FOR_PROCESSING"))
    tenant = channel.tenant
    with scope(tenant=tenant):
        order = Order.objects.select_related("status", "channel").get(pk=order.pk)
        change_order_status(order, status_of(tenant, SystemStatus.SENT), admin_user)
        change_order_status(order, status_of(tenant, SystemStatus.CANCELLED), admin_user)
    assert stock_of(product) == 15
    assert [c[0] for c in changes_of(product)] == ["sold"]


def test_an_order_never_paid_gives_nothing_back_when_cancelled(world):
    channel, product = world
    form, _unpaid = _linked_unpaid(channel)
    _import(channel, _again(form, status="CANCELLED"))
    assert stock_of(product) == 20
    assert changes_of(product) == []


def test_lines_of_other_products_and_unlinked_lines_are_counted_apart(world, tenant):
    channel, product = world
    other = product_of(tenant, "Talerz", stock=7)
    offer_of(channel, "555", other)
    form = _form("BOUGHT")
    extra = copy.deepcopy(form["lineItems"][0])
    extra.update(id=str(uuid.uuid4()), quantity=4)
    extra["offer"] = {**extra["offer"], "id": "555"}
    unknown = copy.deepcopy(extra)
    unknown.update(id=str(uuid.uuid4()), quantity=9)
    unknown["offer"] = {**unknown["offer"], "id": "999"}
    form["lineItems"] += [extra, unknown]
    order = _import(channel, form)
    link_lines(order)
    _import(channel, _again(form, status="READY_FOR_PROCESSING"))
    assert (stock_of(product), stock_of(other)) == (15, 3)
    assert changes_of(other) == [("sold", -4, 3, f"sold:{order.pk}:{other.pk}")]
