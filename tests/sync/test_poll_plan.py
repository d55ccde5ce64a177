"""The poll plan (sync/schedule.py): how often accounts are polled for a deployment's Allegro
budget, with exact numbers. 9 000 requests/min, half of it for polls: 4 500 polls/min."""

from __future__ import annotations

import pytest

from sync.schedule import PollPlan, plan_polls

BUDGET = 9000 * 0.5


def plan(busy: int, idle: dict[int, int] | None = None, budget: float = BUDGET) -> PollPlan:
    return plan_polls(
        busy, idle or {}, budget_per_minute=budget, floor_seconds=2, ceiling_seconds=60
    )


@pytest.mark.parametrize(
    ("busy", "idle", "busy_seconds", "idle_max", "polls_per_minute"),
    [
        # One account: the floor, busy or idle.
        (1, {}, 2, 2, 30.0),
        # 300 busy accounts: 300 × 60 / 4 s = 4 500, the whole share.
        (300, {}, 4, 4, 4500.0),
        # 1 000 busy: 13.3 s rounds up to 14 (never over the share).
        (1000, {}, 14, 14, 4285.7),
        # 5 000 busy: 66.7 s → 67, past the idle ceiling: the budget wins over the ceiling.
        (5000, {}, 67, 67, 4477.6),
        # 1 000 accounts, 100 busy and 900 idle: 3 000 + 900 fits with busy ones at the floor;
        # the 1 500 polls/min left let the idle ones back off to 36 s, not 60 (900 × 60 / 36).
        (100, {60: 900}, 2, 36, 4500.0),
        # 200 busy, 800 idle: 2 s would spend 6 800, 3 s 4 800, 4 s 3 800; then idle up to 32 s.
        (200, {60: 800}, 4, 32, 4500.0),
        # 5 000 accounts, 500 busy and 4 500 idle at 60 s: the idle ones alone spend the share,
        # so everyone is polled every 67 s.
        (500, {60: 4500}, 67, 67, 4477.6),
        # 300 accounts backing off: 100 busy, 100 at 8 s, 100 at 60 s → the ceiling 8 s.
        (100, {8: 100, 60: 100}, 2, 8, 4500.0),
        # Idle accounts that backed off less than the plan's busy interval are polled at it:
        # 1 000 busy and 1 000 idle at 4 s → both every 27 s (2 000 × 60 / 27 = 4 444.4).
        (1000, {4: 1000}, 27, 27, 4444.4),
        # A few idle accounts: the ceiling comes down to the floor.
        (10, {60: 90}, 2, 2, 3000.0),
        # No accounts at all.
        (0, {}, 2, 2, 0.0),
    ],
)
def test_the_plan_for(busy, idle, busy_seconds, idle_max, polls_per_minute):
    result = plan(busy, idle)
    assert (result.busy_seconds, result.idle_max_seconds, result.polls_per_minute) == (
        busy_seconds,
        idle_max,
        polls_per_minute,
    )
    assert result.accounts == busy + sum(idle.values())
    assert result.polls_per_minute <= BUDGET


def spent(busy: int, idle: dict[int, int], t: int, cap: int) -> float:
    return busy * 60 / t + sum(n * 60 / max(t, min(s, cap)) for s, n in idle.items())


def test_the_plan_takes_the_shortest_intervals_that_fit():
    # One second less would spend more than the share (the plan is tight, not merely safe).
    cases = [(300, {}), (1000, {}), (5000, {}), (200, {60: 800}), (100, {60: 900})]
    for busy, idle in cases:
        result = plan(busy, idle)
        t, cap = result.busy_seconds, result.idle_max_seconds
        assert spent(busy, idle, t, cap) <= BUDGET
        if t > 2:  # a shorter busy interval does not fit even with the idle ones at 60 s
            assert spent(busy, idle, t - 1, 60) > BUDGET, (busy, idle)
        if cap > t:  # a shorter idle ceiling does not fit
            assert spent(busy, idle, t, cap - 1) > BUDGET, (busy, idle)


def test_intervals_outside_floor_and_ceiling_are_brought_inside():
    # An idle interval stored before a smaller ceiling counts as the ceiling.
    # 600 s counts as the ceiling, 60 s, and the budget brings it down to the floor; 1 s is below
    # the floor, 2 s.
    assert plan(0, {600: 10}).idle_max_seconds == 2
    assert plan(0, {1: 10}).polls_per_minute == 300.0
    # A small budget: 10 idle accounts at 60 s spend 10/min of 12, so the ceiling stays at 50.
    assert (
        plan(0, {600: 10}, budget=12).idle_max_seconds,
        plan(0, {600: 10}, 12).busy_seconds,
    ) == (
        50,
        2,
    )


def test_a_small_budget_stretches_every_account():
    # 60 requests/min for polls and 10 accounts: every 10 s.
    result = plan(10, {}, budget=60)
    assert (result.busy_seconds, result.polls_per_minute) == (10, 60.0)
