"""core.locking: named locks shared by every process, one at a time or many in one statement.

A second database connection (a thread) plays the other worker."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from core.locking import lock_name, lock_until_commit, try_lock, try_locks

pytestmark = pytest.mark.django_db


def in_other_connection(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a thread, i.e. on its own database connection (another worker)."""
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    return out[0]


def others_get(names: list[str]) -> set[str]:
    def attempt() -> set[str]:
        with try_locks(names) as got:
            return got

    return in_other_connection(attempt)


NAMES = [f"apilo:test:lock:{n}" for n in range(5)]


def test_many_names_in_one_go_and_released_on_exit():
    with try_locks(NAMES) as got:
        assert got == set(NAMES)
        assert others_get(NAMES) == set()
    assert others_get(NAMES) == set(NAMES)


def test_at_most_takes_the_first_free_names_in_order_and_leaves_the_rest_free():
    with try_lock(NAMES[0]) as first:
        assert first
        # Another worker holds the first name: this one takes the next two free ones.
        taken = in_other_connection(lambda: _hold_and_report(NAMES, at_most=2))
    assert taken == ({NAMES[1], NAMES[2]}, {NAMES[3], NAMES[4]})


def _hold_and_report(names: list[str], at_most: int) -> tuple[set[str], set[str]]:
    """Take ``at_most`` of the names; report them and what a third worker could still get."""
    with try_locks(names, at_most=at_most) as got:
        # No lock was taken beyond the limit: the names after it are still free.
        free_for_a_third = in_other_connection(lambda: _probe(names[3:]))
        return got, free_for_a_third


def _probe(names: list[str]) -> set[str]:
    with try_locks(names) as got:
        return got


def test_nothing_asked_nothing_taken():
    with try_locks([]) as got:
        assert got == set()
    with try_locks(NAMES, at_most=0) as got:
        assert got == set()
    assert others_get(NAMES) == set(NAMES)


def test_every_lock_name_carries_the_tenant():
    assert lock_name("orders.ingest", 7, 12) == "apilo:orders.ingest:7:12"
    assert lock_name("fulfillment:push", 7, 3) == "apilo:fulfillment:push:7:3"
    assert lock_name("orders.ingest", 8, 12) != lock_name("orders.ingest", 7, 12)


@pytest.mark.django_db(transaction=True)
def test_a_lock_until_commit_is_held_until_the_transaction_ends():
    name = lock_name("test", 1, 2)
    with transaction.atomic():
        lock_until_commit(name)
        assert others_get([name]) == set()
    assert others_get([name]) == {name}


@pytest.mark.django_db(transaction=True)
def test_a_lock_until_commit_waits_for_a_holder_of_the_same_name():
    name = lock_name("test", 1, 3)
    order: list[str] = []
    holding = threading.Event()
    release = threading.Event()

    def hold() -> None:
        try:
            with try_lock(name) as got:
                assert got
                holding.set()
                release.wait(timeout=10)
                order.append("released")
        finally:
            connection.close()

    thread = threading.Thread(target=hold)
    thread.start()
    assert holding.wait(timeout=10)
    threading.Timer(0.3, release.set).start()
    with transaction.atomic():
        lock_until_commit(name)
        order.append("locked")
    thread.join()
    assert order == ["released", "locked"]
