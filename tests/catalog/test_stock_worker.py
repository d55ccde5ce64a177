"""Real Celery worker and beat against allegro_sandbox: a change of a product linked to offers
on two channels reaches both exactly once, although the worker is SIGKILLed while a command is
on its way (the sweeper takes the row over after its lease, with the same command id)."""

from __future__ import annotations

import pytest
from django_scopes import scope

from catalog.models import StockPushState, StockReason
from catalog.services.stock import change_stock
from tests.catalog.helpers_stock import (  # noqa: F401
    SELLERS,
    WORKER_ENV,
    offer_of,
    product_of,
    pushes_of,
    stock_channels_fixture,
    stock_env_fixture,
)
from tests.celery_support import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _states(*offers) -> list[list[str]]:
    return [[p.state for p in pushes_of(o)] for o in offers]


def test_a_change_reaches_both_channels_once_across_a_killed_worker(
    tenant, stock_env, stock_channels, celery_processes
):
    first, second = stock_channels
    product = product_of(tenant, stock=10)
    a = offer_of(first, stock_env.active_offer_ids(0)[0], product)
    b = offer_of(second, stock_env.active_offer_ids(1)[0], product)
    # Channel A's command hangs on its way; the worker waits for the answer.
    stock_env.sandbox.set_faults(
        seller=SELLERS[0][0],
        timeout=1.0,
        hang_seconds=600,
        path_prefix="/sale/offer-quantity-change-commands",
    )
    worker, _beat = celery_processes(
        stock_env.worker_env(**{**WORKER_ENV, "ALLEGRO_READ_TIMEOUT": "600"})
    )
    with scope(tenant=tenant):
        change_stock(product, delta=-4, reason=StockReason.MANUAL)
    wait_until(
        lambda: _states(a, b) == [[StockPushState.SENT], [StockPushState.DONE]],
        60,
        f"not in flight: {_states(a, b)}",
    )
    [in_flight] = pushes_of(a)
    worker.kill()  # dies waiting for Allegro's answer to A's command
    stock_env.sandbox.clear_faults(seller=SELLERS[0][0])
    worker.start()
    worker.wait_for_log("ready.", timeout=60)

    wait_until(
        lambda: _states(a, b) == [[StockPushState.DONE], [StockPushState.DONE]],
        60,
        f"not done: {_states(a, b)}",
    )
    [row_a], [row_b] = pushes_of(a), pushes_of(b)
    assert row_a.command_id == in_flight.command_id  # the same command, sent again
    assert row_a.attempts == 1
    assert (stock_env.available(a.external_id), stock_env.available(b.external_id)) == (6, 6)
    commands = stock_env.commands()
    assert sorted(commands) == sorted([str(row_a.command_id), str(row_b.command_id)])
    assert commands[str(row_a.command_id)]["offers"] == [a.external_id]
    assert commands[str(row_b.command_id)]["offers"] == [b.external_id]
    assert commands[str(row_b.command_id)]["puts"] == 1
    assert all(c["value"] == 6 and c["tasks"] for c in commands.values())
