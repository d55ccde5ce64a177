"""The stock outbox sent to allegro_sandbox over HTTP: commands applied and followed to their
outcome, a refused command kept with Allegro's reason, a retry that reuses its command id, a
newer quantity while a command is in flight, a missing scope, and no echo of our own change."""

from __future__ import annotations

import time

import pytest
from django_scopes import scope

from catalog.models import StockPushState, StockReason, SweepReason
from catalog.services.offers import start_offer_sweep
from catalog.services.stock import change_stock
from catalog.services.stock_push import SCOPE_MISSING, due_offers
from channels.clients.allegro import REQUESTED_SCOPES
from channels.services.api import call
from tests.catalog.helpers_offers import poll, run_sweep
from tests.catalog.helpers_stock import (  # noqa: F401
    CHANNELS,
    SELLERS,
    configure,
    offer_of,
    product_of,
    pushes_of,
    run_sender,
    send_stock,
    stock_channels_fixture,
    stock_env_fixture,
    stock_of,
)
from tests.support.channels import make_channel
from tests.support.connect import connect

pytestmark = pytest.mark.django_db(transaction=True)


def _until_finished(offer, rounds: int = 40) -> list:
    """Run the offer's sender until none of its rows is open."""
    for _ in range(rounds):
        run_sender(offer)
        rows = pushes_of(offer)
        if all(r.state not in (StockPushState.PENDING, StockPushState.SENT) for r in rows):
            return rows
        time.sleep(0.25)
    raise AssertionError([(r.state, r.error_code) for r in pushes_of(offer)])


def test_a_change_reaches_the_offers_of_both_channels(tenant, stock_env, stock_channels):
    first, second = stock_channels
    product = product_of(tenant, stock=10)
    a = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    b = offer_of(second, stock_env.active_offer_ids(1)[0], product)
    with scope(tenant=tenant):
        change_stock(product, delta=-3, reason=StockReason.MANUAL)
    for offer in (a, b):
        [row] = _until_finished(offer)
        assert (row.state, row.quantity, row.error_code) == (StockPushState.DONE, 7, "")
        assert row.finished_at is not None
    assert (stock_env.available(a.external_id), stock_env.available(b.external_id)) == (7, 7)
    commands = stock_env.commands()
    assert sorted(commands) == sorted(str(p.command_id) for p in pushes_of(a) + pushes_of(b))
    assert [(c["offers"], c["value"], c["puts"]) for c in commands.values()] == [
        ([a.external_id], 7, 1),
        ([b.external_id], 7, 1),
    ] or [(c["offers"], c["value"], c["puts"]) for c in commands.values()] == [
        ([b.external_id], 7, 1),
        ([a.external_id], 7, 1),
    ]


def test_a_command_allegro_refuses_is_failed_with_its_reason(tenant, stock_env, stock_channels):
    first, _second = stock_channels
    product = product_of(tenant, stock=4)
    offer_id = stock_env.active_offer_ids(0)[0]
    stock_env.sandbox.change_offer(offer_id, status="ENDED")
    offer = offer_of(first, offer_id, product)
    with scope(tenant=tenant):
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    [row] = _until_finished(offer)
    assert (row.state, row.error_code, row.error_detail) == (
        StockPushState.FAILED,
        "refused",
        "The offer has ended and cannot be modified.",
    )
    # Nothing is lost: the next change is a row of its own, sent once the offer is back.
    stock_env.sandbox.change_offer(offer_id, status="ACTIVE")
    with scope(tenant=tenant):
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    rows = _until_finished(offer)
    assert [(r.state, r.quantity) for r in rows] == [
        (StockPushState.FAILED, 5),
        (StockPushState.DONE, 6),
    ]
    assert stock_env.available(offer_id) == 6


def test_a_retry_after_a_lost_answer_sends_the_same_command(tenant, stock_env, stock_channels):
    first, _second = stock_channels
    product = product_of(tenant, stock=9)
    offer = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    seller = SELLERS[0][0]
    stock_env.sandbox.set_faults(
        seller=seller, error_5xx=1.0, path_prefix="/sale/offer-quantity-change-commands"
    )
    with scope(tenant=tenant):
        change_stock(product, new_stock=3, reason=StockReason.MANUAL)
    run_sender(offer)
    [row] = pushes_of(offer)
    assert (row.state, row.error_code) == (StockPushState.SENT, "transient")
    stock_env.sandbox.clear_faults(seller=seller)
    [done] = _until_finished(offer)
    assert done.command_id == row.command_id
    assert done.state == StockPushState.DONE
    command = stock_env.commands()[str(row.command_id)]
    assert (command["value"], command["offers"]) == (3, [offer.external_id])
    assert stock_env.available(offer.external_id) == 3


def test_a_newer_quantity_while_a_command_runs_waits_for_it(tenant, stock_env, stock_channels):
    first, _second = stock_channels
    stock_env.quantity_seconds(1.0)
    product = product_of(tenant, stock=9)
    offer = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    with scope(tenant=tenant):
        change_stock(product, new_stock=5, reason=StockReason.MANUAL)
    run_sender(offer)  # the command is accepted, Allegro is applying it
    with scope(tenant=tenant):
        change_stock(product, new_stock=4, reason=StockReason.MANUAL)
        change_stock(product, new_stock=2, reason=StockReason.MANUAL)
    run_sender(offer)  # the first command still runs: the newer quantity waits
    assert [(r.state, r.quantity) for r in pushes_of(offer)] == [
        (StockPushState.SENT, 5),
        (StockPushState.PENDING, 2),
    ]
    assert len(stock_env.commands()) == 1
    rows = _until_finished(offer)
    assert [(r.state, r.quantity) for r in rows] == [
        (StockPushState.DONE, 5),
        (StockPushState.DONE, 2),
    ]
    assert sorted(c["value"] for c in stock_env.commands().values()) == [2, 5]
    assert stock_env.available(offer.external_id) == 2


def test_an_older_command_allegro_never_got_is_not_sent_after_a_newer_one(
    tenant, stock_env, stock_channels
):
    first, _second = stock_channels
    product = product_of(tenant, stock=9)
    offer = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    seller = SELLERS[0][0]
    stock_env.sandbox.set_faults(
        seller=seller, error_5xx=1.0, path_prefix="/sale/offer-quantity-change-commands"
    )
    with scope(tenant=tenant):
        change_stock(product, new_stock=5, reason=StockReason.MANUAL)
    run_sender(offer)  # the PUT did not get through
    with scope(tenant=tenant):
        change_stock(product, new_stock=1, reason=StockReason.MANUAL)
    stock_env.sandbox.clear_faults(seller=seller)
    rows = _until_finished(offer)
    assert [(r.state, r.quantity) for r in rows] == [
        (StockPushState.SUPERSEDED, 5),
        (StockPushState.DONE, 1),
    ]
    assert [c["value"] for c in stock_env.commands().values()] == [1]


def test_an_account_without_the_write_scope_waits_and_says_so(
    tenant, admin_user, allegro_sandbox, settings
):
    env = configure(allegro_sandbox, settings)
    allegro_sandbox.update_client_app(
        env.client_id, scopes=[s for s in _all_scopes() if s != "allegro:api:sale:offers:write"]
    )
    channel = connect(make_channel(tenant, CHANNELS[0]), admin_user, SELLERS[0][1])
    send_stock(channel)
    product = product_of(tenant, stock=3)
    offer = offer_of(channel, env.active_offer_ids(0)[0], product)
    with scope(tenant=tenant):
        change_stock(product, delta=1, reason=StockReason.MANUAL)
    run_sender(offer)
    [row] = pushes_of(offer)
    assert (row.state, row.error_code) == (StockPushState.PENDING, SCOPE_MISSING)
    assert env.commands() == {}


def _all_scopes() -> list[str]:
    return list(REQUESTED_SCOPES)


def test_our_own_quantity_coming_back_as_an_offer_event_changes_no_product(
    tenant, stock_env, stock_channels
):
    """The echo: the sandbox emits OFFER_STOCK_CHANGED for our command, and the channel's
    offer events poll applies it to the offer. Nothing of the stock follows offer events, so
    the product and its outbox stay as they were."""
    first, _second = stock_channels
    product = product_of(tenant, stock=8)
    offer = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    # The channel's offers imported (its events cursor taken) before the change.
    with scope(tenant=tenant):
        start_offer_sweep(first, SweepReason.MANUAL)
    run_sweep(first)
    with scope(tenant=tenant):
        change_stock(product, delta=-1, reason=StockReason.MANUAL)
    _until_finished(offer)
    poll(first)
    offer.refresh_from_db()
    assert (offer.stock_available, offer.product_id) == (7, product.pk)
    assert stock_env.available(offer.external_id) == 7
    with scope(tenant=tenant):
        events = call(first, "GET", "/sale/offer-events", params={"limit": 1000}).data
    echoed = [
        e
        for e in events["offerEvents"]
        if e["type"] == "OFFER_STOCK_CHANGED" and e["offer"]["id"] == offer.external_id
    ]
    assert len(echoed) == 1
    assert stock_of(product) == 7
    assert len(pushes_of(offer)) == 1
    assert due_offers() == []


def test_ten_changes_before_the_sender_runs_are_one_command_with_the_last_quantity(
    tenant, stock_env, stock_channels
):
    first, _second = stock_channels
    product = product_of(tenant, stock=30)
    offer = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    with scope(tenant=tenant):
        for _ in range(10):
            change_stock(product, delta=-2, reason=StockReason.MANUAL)
    [row] = _until_finished(offer)
    assert (row.state, row.quantity) == (StockPushState.DONE, 10)
    assert [(c["value"], c["puts"]) for c in stock_env.commands().values()] == [(10, 1)]
    assert stock_env.available(offer.external_id) == 10
