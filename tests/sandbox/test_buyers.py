"""The buyer generator places exactly the orders per minute it is asked for, whatever the length
of the background loop's tick (driven here step by step, in process, with the elapsed time
given to each step instead of measured)."""

from __future__ import annotations

import pytest

from allegro_sandbox.server import Background, build


def orders_after(rate: float, tick_seconds: float, minutes: int) -> int:
    app, _persistence = build(seed=7)
    with app.store.lock:
        app.store.create_seller("anna", "pass-anna", id="50000001", offers=5)
        app.store.buyers_rate = rate
    background = Background(app, None)
    steps = round(minutes * 60 / tick_seconds)
    for _ in range(steps):
        background.step(elapsed=tick_seconds)
    return len(app.store.orders)


@pytest.mark.parametrize("rate", [2, 20, 60])
@pytest.mark.parametrize("tick_seconds", [0.1, 0.5, 1.0, 3.5, 7.0])
def test_buyers_place_the_asked_orders_per_minute(rate: int, tick_seconds: float) -> None:
    assert orders_after(rate, tick_seconds, minutes=7) == rate * 7


def test_a_rate_below_one_per_tick_carries_fractions_between_ticks() -> None:
    # 0.5 orders a minute on half-second ticks: one order every 120 steps, none before.
    assert orders_after(0.5, 0.5, minutes=1) == 0
    assert orders_after(0.5, 0.5, minutes=2) == 1
    assert orders_after(0.5, 0.5, minutes=10) == 5
