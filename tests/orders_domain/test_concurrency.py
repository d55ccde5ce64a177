"""Every lock of the orders domain, proven: each test fails once its lock is switched off.

- allocate_order_numbers: the counter row is read with SELECT … FOR UPDATE. Without it,
  concurrent allocations read the same last value and hand out the same numbers.
- The channel's advisory lock in the upsert: without it, a poll and a sweep importing the same
  new form collide on the unique constraint and one batch has to be redone form by form.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest
from django.db import connection, connections, transaction

from orders.ingest import Outcome, allocate_order_numbers, upsert_orders_from_checkout_forms
from orders.ingest import batch as ingest_batch
from orders.ingest import numbers as ingest_numbers
from orders.models import Order
from tests.factories import in_scope
from tests.support.orders import checkout_form

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 50


def _allocate_concurrently(tenant) -> list[str]:
    barrier = threading.Barrier(THREADS)
    numbers: list[str] = []
    errors: list[BaseException] = []

    def work():
        try:
            barrier.wait()
            numbers.extend(allocate_order_numbers(tenant, "AL", 1))
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    return numbers


def test_fifty_concurrent_allocations_get_fifty_distinct_contiguous_numbers(tenant):
    numbers = _allocate_concurrently(tenant)
    period = numbers[0][2:6]
    assert sorted(numbers) == [f"AL{period}{n:06d}" for n in range(1, THREADS + 1)]


def test_without_the_counter_lock_numbers_repeat(tenant, monkeypatch):
    monkeypatch.setattr(ingest_numbers, "_LOCK_COUNTER", False)
    # The race is real but timing-dependent: a few rounds make it show every time.
    for _round in range(5):
        numbers = _allocate_concurrently(tenant)
        if len(set(numbers)) < len(numbers):
            break
    assert len(set(numbers)) < len(numbers)


def _waiting_for_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def _poll_and_sweep_import_the_same_new_form(channel):
    """Thread A imports a form and keeps its transaction open; thread B imports the same form;
    A commits once B waits for a lock. Returns B's result."""
    form = checkout_form()
    a_imported, a_commit = threading.Event(), threading.Event()
    results = {}

    def a():
        try:
            with transaction.atomic():
                results["a"] = upsert_orders_from_checkout_forms(channel, [form])
                a_imported.set()
                a_commit.wait(10)
        finally:
            connection.close()

    def b():
        try:
            a_imported.wait(10)
            results["b"] = upsert_orders_from_checkout_forms(channel, [form])
        finally:
            connection.close()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while not _waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    a_commit.set()
    for thread in threads:
        thread.join()
    return form, results


def test_a_poll_and_a_sweep_of_one_channel_take_turns(tenant, channel, caplog):
    caplog.set_level(logging.WARNING, logger="orders.ingest")
    form, results = _poll_and_sweep_import_the_same_new_form(channel)
    assert [r.outcome for r in results["a"].results] == [Outcome.CREATED]
    assert [r.outcome for r in results["b"].results] == [Outcome.UNCHANGED]
    assert [r.message for r in caplog.records] == []
    with in_scope(tenant):
        assert Order.objects.filter(external_id=form["id"]).count() == 1


def test_without_the_channel_lock_the_second_import_collides(tenant, channel, caplog, monkeypatch):
    monkeypatch.setattr(ingest_batch, "_LOCK_CHANNEL", False)
    caplog.set_level(logging.WARNING, logger="orders.ingest")
    form, results = _poll_and_sweep_import_the_same_new_form(channel)
    assert [r.outcome for r in results["a"].results] == [Outcome.CREATED]
    # The unique constraint still holds (the retry finds the order), but the batch collided.
    assert [r.outcome for r in results["b"].results] == [Outcome.UNCHANGED]
    assert [r.message for r in caplog.records] == [
        f"Batch upsert failed for channel {channel.pk}; retrying form by form"
    ]
    with in_scope(tenant):
        assert Order.objects.filter(external_id=form["id"]).count() == 1


def test_concurrent_status_changes_keep_the_tab_counts_exact(tenant, channel, staff_user):
    from orders.changes import bulk_change_status
    from orders.models import OrderStatus
    from tests.orders_domain.helpers import assert_status_counts_exact

    forms = [checkout_form() for _ in range(40)]
    result = upsert_orders_from_checkout_forms(channel, forms)
    ids = [r.order_id for r in result.results]
    with in_scope(tenant):
        targets = list(OrderStatus.objects.filter(system_code__in=["in_progress", "sent"]))
    barrier = threading.Barrier(8)
    errors = []

    def work(i):
        try:
            barrier.wait()
            # Overlapping selections, alternating targets: rows are locked in pk order.
            chunk = ids[i * 4 : i * 4 + 12]
            bulk_change_status(tenant, chunk, targets[i % 2], staff_user)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    kept = assert_status_counts_exact(tenant)
    assert sum(kept.values()) == 40
