"""Convergence under faults, at CI size: a real Celery worker and beat poll the sandbox while it
drops 2 % of journal events, duplicates 10 %, reorders and delays them, answers 5 % of API
requests with a 5xx, blocks the client id with a 429, and rotates the refresh token every few
seconds (short access-token lifetime); the worker is SIGKILLed mid-poll and restarted.
Afterwards every sandbox order is in the database exactly once and equal to the sandbox's
checkout form, field by field.

Without the reconciliation sweep this does not converge: run it with
``SYNC_TEST_WITHOUT_RECONCILIATION=1`` to see the orders whose events were dropped stay behind
(the sweep is then scheduled once a day instead of every few seconds).
"""

from __future__ import annotations

import os
import random
import time

import pytest
from django_scopes import scopes_disabled

from fulfillment.models import FulfillmentPush, PushState
from orders.models import Order
from tests.celery_support import wait_until
from tests.sync.helpers import SELLER, mismatches, orders_by_external_id, state_of

pytestmark = pytest.mark.django_db(transaction=True)

ORDERS = 500
WITHOUT_RECONCILIATION = os.environ.get("SYNC_TEST_WITHOUT_RECONCILIATION") == "1"


@pytest.fixture
def allegro_app_options():
    # Access tokens live 20 s: the worker refreshes (and Allegro rotates the refresh token)
    # several times during the run; the previous access token dies at once on refresh.
    return {"access_token_ttl": 20, "revoke_access_on_refresh": True}


def _differences(channel, sandbox, ids: list[str]) -> list[str]:
    orders = orders_by_external_id(channel)
    problems = [f"{i} missing" for i in ids if i not in orders]
    problems += [f"{i} not in the sandbox" for i in orders if i not in set(ids)]
    for external_id in ids:
        if external_id in orders:
            problems += mismatches(orders[external_id], sandbox.order(external_id)["checkoutForm"])
    return problems


def _caught_up(channel, sandbox) -> bool:
    return state_of(channel).cursor == sandbox.journal(SELLER)["events"][-1]["id"]


def _pushes_pending() -> int:
    with scopes_disabled():
        return FulfillmentPush.objects.filter(state=PushState.PENDING).count()


def _statuses_match(channel, sandbox) -> bool:
    """Cheap check first: every sandbox order present with Allegro's status."""
    theirs = {o["id"]: o["status"] for o in sandbox.seller_orders(SELLER)}
    with scopes_disabled():
        ours = dict(
            Order.objects.filter(channel_id=channel.pk).values_list("external_id", "allegro_status")
        )
    return ours == theirs


def test_every_order_arrives_exactly_once_and_complete_under_faults(
    channel, sync_env, celery_processes
):
    sandbox = sync_env.sandbox
    rng = random.Random(5)
    env = sync_env.worker_env(
        SYNC_POLL_TICK_SECONDS=1,
        SYNC_POLL_BUSY_SECONDS=1,
        SYNC_POLL_IDLE_MAX_SECONDS=2,
        SYNC_POLL_BACKOFF_MAX_SECONDS=3,
        SYNC_POLL_MAX_SECONDS=5,
        SYNC_EVENTS_PAGE_SIZE=100,
        SYNC_FORMS_PER_BATCH=50,
        SYNC_RECONCILE_INTERVAL_SECONDS=86400 if WITHOUT_RECONCILIATION else 10,
        SYNC_RECONCILE_WINDOW_HOURS=2,
        SYNC_RECONCILE_GRACE_SECONDS=0,
        ALLEGRO_RATE_LIMIT_BLOCK_SECONDS=3,
        ALLEGRO_TOKEN_REFRESH_MARGIN_SECONDS=10,
    )
    sandbox.set_rate_limit(client_id=sync_env.client_id, block_seconds=3)
    sandbox.set_faults(
        seller=SELLER,
        drop_events=0.02,
        duplicate_events=0.10,
        out_of_order=0.5,
        delay_events_seconds=2,
        error_5xx=0.05,
        latency_ms=15,
        seed=11,
    )
    worker, _beat = celery_processes(env)

    ids: list[str] = []
    to_advance: list[str] = []
    killed_mid_poll = False
    for wave in range(10):
        bought = sandbox.create_orders(SELLER, 30, status="BOUGHT")
        paid = sandbox.create_orders(SELLER, 15)
        cancelled = sandbox.create_orders(SELLER, 5, status="BUYER_CANCELLED")
        ids += bought + paid + cancelled
        to_advance += bought
        if wave == 3:
            # 429 for every caller, held until one of our requests has met it (a fixed 3 s
            # block can pass while the worker happens to make no call), then ~3 s more (each
            # request during the block extends it by 3 s).
            sandbox.block_client(sync_env.client_id, 60)
            wait_until(
                lambda: sandbox.stats()["by_status"].get("429", 0) >= 1,
                30,
                "a request met the 429 block",
                step=0.05,
            )
            sandbox.block_client(sync_env.client_id, 3)
        if wave == 5:
            # SIGKILL while a poll is in flight (started, not finished).
            wait_until(
                lambda: (
                    (s := state_of(channel)).last_poll_started_at is not None
                    and (s.last_poll_at is None or s.last_poll_started_at > s.last_poll_at)
                ),
                30,
                "a poll in flight",
                step=0.02,
            )
            worker.kill()
            killed_mid_poll = True
            time.sleep(1)
            worker.start()
        time.sleep(0.7)
    assert len(ids) == ORDERS
    # The buyers fill in the purchases they left unpaid; a little later they pay (or cancel).
    # An order whose last event is lost now stays behind unless the sweep finds it.
    for order_id in to_advance:
        sandbox.advance_order(order_id, "FILLED_IN")
    time.sleep(2.5)  # the delayed events are in the journal now
    wait_until(lambda: _caught_up(channel, sandbox), 60, "the journal read to its end")
    for order_id in to_advance:
        if rng.random() < 0.1:
            sandbox.advance_order(order_id, "BUYER_CANCELLED")
        else:
            sandbox.advance_order(order_id, "READY_FOR_PROCESSING")

    def converged() -> bool:
        # Cancelled orders push CANCELLED back to Allegro (fulfillment outbox): a push in flight
        # has reached Allegro a moment before the order records it, so wait for none pending.
        return (
            _statuses_match(channel, sandbox)
            and not _pushes_pending()
            and not _differences(channel, sandbox, ids)
        )

    try:
        wait_until(converged, 100, "orders converge", step=1)
    except AssertionError:
        differences = _differences(channel, sandbox, ids)
        raise AssertionError(f"{len(differences)} differences: {differences[:10]}") from None
    assert _differences(channel, sandbox, ids) == []

    # The run really had the faults it claims.
    stats = sandbox.stats()
    assert killed_mid_poll
    assert stats["by_status"].get("429", 0) >= 1
    assert stats["by_status"].get("500", 0) >= 1
    assert sync_env.sandbox.token_calls(sync_env.client_id)["ok"].get("refresh_token", 0) >= 2
    journal = sandbox.journal(SELLER)
    assert len(journal["withheld"]) >= 1  # events Allegro "lost"
    state = state_of(channel)
    assert state.reconcile_missing_total >= 1

    # Allegro inserts the lost events late: they are read, and change nothing.
    released = sandbox.release_events(SELLER)
    assert released >= len(journal["withheld"])
    sandbox.clear_faults(seller=SELLER)
    wait_until(
        lambda: state_of(channel).cursor == sandbox.journal(SELLER)["events"][-1]["id"],
        30,
        "late events read",
    )
    assert _differences(channel, sandbox, ids) == []
    with scopes_disabled():
        assert Order.objects.filter(channel_id=channel.pk).count() == ORDERS
