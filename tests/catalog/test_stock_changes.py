"""change_stock, the one writer of a product's stock: set or add, once per dedupe key, the
stock_changed signal, and the outbox rows it writes (coalesced per offer, only for channels
that send stock)."""

from __future__ import annotations

import pytest
from django.db import IntegrityError
from django_scopes import scope

from catalog.models import OfferStockPush, StockPushState, StockReason
from catalog.services import stock
from catalog.services.stock import change_stock, set_stock_push
from catalog.signals import stock_changed
from tests.catalog.helpers_stock import (
    changes_of,
    offer_of,
    product_of,
    pushes_of,
    send_stock,
    stock_of,
)
from tests.support.channels import channel_of

pytestmark = pytest.mark.django_db


def test_set_and_add_write_the_timeline_and_the_stock(tenant, admin_user):
    product = product_of(tenant, stock=0)
    with scope(tenant=tenant):
        first = change_stock(product, new_stock=12, reason=StockReason.IMPORT)
        second = change_stock(
            product, delta=-5, reason=StockReason.MANUAL, actor=admin_user, note="inwentura"
        )
    assert first is not None and second is not None
    assert (first.delta, first.stock_after) == (12, 12)
    assert (second.delta, second.stock_after, second.note) == (-5, 7, "inwentura")
    assert product.stock == 7
    assert stock_of(product) == 7
    assert changes_of(product) == [("import", 12, 12, ""), ("manual", -5, 7, "")]


def test_a_repeated_dedupe_key_changes_nothing(tenant):
    product = product_of(tenant, stock=10)
    with scope(tenant=tenant):
        first = change_stock(product, delta=-2, reason=StockReason.SOLD, dedupe_key="sold:1:1")
        again = change_stock(product, delta=-2, reason=StockReason.SOLD, dedupe_key="sold:1:1")
    assert first is not None
    assert again is None
    assert stock_of(product) == 8
    assert changes_of(product) == [("sold", -2, 8, "sold:1:1")]


def test_without_the_dedupe_constraint_a_repeated_key_would_apply_twice(tenant):
    """The guard of the test above is the unique constraint: the second insert of the key is
    refused by the database itself."""
    from catalog.models import ProductStockChange

    product = product_of(tenant, stock=10)
    with scope(tenant=tenant):
        change_stock(product, delta=-2, reason=StockReason.SOLD, dedupe_key="sold:9:9")
        with pytest.raises(IntegrityError):
            ProductStockChange.objects.create(
                tenant=tenant,
                product=product,
                reason=StockReason.SOLD,
                delta=-2,
                stock_after=6,
                dedupe_key="sold:9:9",
            )


def test_stock_changed_is_sent_with_the_product_and_the_change(tenant):
    product = product_of(tenant, stock=3)
    seen = []

    def listen(sender, product, change, **kwargs):
        seen.append((product.pk, product.stock, change.delta, change.reason))

    stock_changed.connect(listen)
    try:
        with scope(tenant=tenant):
            change_stock(product, delta=4, reason=StockReason.MANUAL)
            change_stock(product, delta=4, reason=StockReason.SOLD, dedupe_key="k")
            change_stock(product, delta=4, reason=StockReason.SOLD, dedupe_key="k")
    finally:
        stock_changed.disconnect(listen)
    assert seen == [(product.pk, 7, 4, "manual"), (product.pk, 11, 4, "sold")]


def test_a_channel_that_does_not_send_stock_gets_no_rows(tenant):
    channel = channel_of(tenant)
    product = product_of(tenant, stock=5)
    offer = offer_of(channel, "1001", product)
    with scope(tenant=tenant):
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    assert pushes_of(offer) == []


def test_ten_changes_before_the_sender_runs_are_one_row_with_the_last_quantity(tenant):
    channel = channel_of(tenant)
    send_stock(channel)
    product = product_of(tenant, stock=50)
    offer = offer_of(channel, "1001", product)
    with scope(tenant=tenant):
        for _ in range(10):
            last = change_stock(product, delta=-3, reason=StockReason.MANUAL)
    [row] = pushes_of(offer)
    assert (row.state, row.quantity, row.stock_change_id) == (StockPushState.PENDING, 20, last.pk)


def test_every_linked_offer_on_every_sending_channel_gets_its_row(tenant):
    first, second, silent = (
        channel_of(tenant, "AA"),
        channel_of(tenant, "AB"),
        channel_of(tenant, "AC"),
    )
    send_stock(first)
    send_stock(second)
    product, other = product_of(tenant, "Kubek", stock=5), product_of(tenant, "Talerz", stock=1)
    offers = [offer_of(first, "1", product), offer_of(second, "2", product)]
    untouched = [offer_of(silent, "3", product), offer_of(first, "4", other), offer_of(first, "5")]
    with scope(tenant=tenant):
        change_stock(product, delta=2, reason=StockReason.MANUAL)
    assert [[(p.quantity, p.channel_id) for p in pushes_of(o)] for o in offers] == [
        [(7, first.pk)],
        [(7, second.pk)],
    ]
    assert [pushes_of(o) for o in untouched] == [[], [], []]


def test_a_negative_stock_is_sent_as_zero(tenant):
    channel = channel_of(tenant)
    send_stock(channel)
    product = product_of(tenant, stock=1)
    offer = offer_of(channel, "1001", product)
    with scope(tenant=tenant):
        change_stock(product, delta=-3, reason=StockReason.SOLD, dedupe_key="sold:1:2")
    assert stock_of(product) == -2
    assert [p.quantity for p in pushes_of(offer)] == [0]


def test_a_sent_row_is_not_changed_a_newer_quantity_gets_a_new_row(tenant):
    channel = channel_of(tenant)
    send_stock(channel)
    product = product_of(tenant, stock=5)
    offer = offer_of(channel, "1001", product)
    with scope(tenant=tenant):
        change_stock(product, delta=1, reason=StockReason.MANUAL)
        OfferStockPush.objects.filter(offer=offer).update(state=StockPushState.SENT)
        change_stock(product, delta=1, reason=StockReason.MANUAL)
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    assert [(p.state, p.quantity) for p in pushes_of(offer)] == [
        (StockPushState.SENT, 6),
        (StockPushState.PENDING, 8),
    ]


def test_turning_stock_push_on_queues_every_linked_offer_once(tenant):
    channel, other = channel_of(tenant, "AA"), channel_of(tenant, "AB")
    send_stock(other)
    product = product_of(tenant, stock=4)
    mine, unlinked, elsewhere = (
        offer_of(channel, "1", product),
        offer_of(channel, "2"),
        offer_of(other, "3", product),
    )
    with scope(tenant=tenant):
        assert set_stock_push(channel, True) == 1
        assert set_stock_push(channel, True) == 0  # already on: nothing queued again
        assert stock.stock_push_enabled(channel)
    assert [(p.quantity, p.state) for p in pushes_of(mine)] == [(4, StockPushState.PENDING)]
    assert pushes_of(unlinked) == []
    assert pushes_of(elsewhere) == []  # the other channel's offers are not its business
    with scope(tenant=tenant):
        assert set_stock_push(channel, False) == 0
        assert not stock.stock_push_enabled(channel)
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    assert [p.quantity for p in pushes_of(mine)] == [4]


def test_by_hand_refuses_what_makes_no_sense(tenant, admin_user):
    product = product_of(tenant, stock=4)
    with scope(tenant=tenant):
        with pytest.raises(stock.StockError) as zero:
            stock.change_stock_by_hand(product, actor=admin_user, delta=0)
        with pytest.raises(stock.StockError) as huge:
            stock.change_stock_by_hand(product, actor=admin_user, new_stock=10**9)
    assert (zero.value.code, zero.value.field) == ("stock_delta_zero", "delta")
    assert (huge.value.code, huge.value.field) == ("stock_out_of_range", "new_stock")
    assert stock_of(product) == 4
