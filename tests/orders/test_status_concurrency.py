"""Two administrators reorder statuses at the same moment: positions stay unique and contiguous.

The first move is held open inside its transaction until the second one is provably waiting on a
lock in PostgreSQL; then the first commits. move_status locks the tenant's statuses before it
reads them, so the second move waits, reads the committed order and applies its swap on top.
Without that lock the second move reads the stale order and writes over the first (checked once
by removing select_for_update: positions came out [1, 2, 3, 5, 5, 6, 7]).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, transaction

from orders.statuses import move_status
from tests.factories import in_scope
from tests.orders.status_helpers import positions, status_named, status_names

WAIT_LIMIT = 15  # seconds; a safety net so a broken lock cannot hang the suite


def _waiting_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE NOT l.granted AND a.datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_moves_keep_positions_unique_and_contiguous(tenant):
    # Start from positions 1..7, the numbering every move leaves behind.
    with in_scope(tenant):
        move_status(status_named(tenant, "Niepotwierdzone"), "up")
    assert positions(tenant) == [1, 2, 3, 4, 5, 6, 7]
    wyslane = status_named(tenant, "Wysłane")  # position 5
    anulowane = status_named(tenant, "Anulowane")  # position 6

    first_moved = threading.Event()
    release_first = threading.Event()
    errors: list[BaseException] = []

    def first() -> None:
        try:
            with in_scope(tenant), transaction.atomic():
                move_status(wyslane, "up")  # Wysłane ↔ Do wysłania
                first_moved.set()
                release_first.wait(WAIT_LIMIT)
        except BaseException as error:
            errors.append(error)
        finally:
            first_moved.set()
            connection.close()

    def second() -> None:
        try:
            with in_scope(tenant):
                move_status(anulowane, "up")  # Anulowane ↔ whatever is above it now
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    first_thread = threading.Thread(target=first)
    first_thread.start()
    assert first_moved.wait(WAIT_LIMIT)
    second_thread = threading.Thread(target=second)
    second_thread.start()
    deadline = time.monotonic() + WAIT_LIMIT
    while _waiting_backends() == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    second_waited = _waiting_backends() > 0
    release_first.set()
    first_thread.join(WAIT_LIMIT)
    second_thread.join(WAIT_LIMIT)

    assert errors == []
    assert second_waited
    assert positions(tenant) == [1, 2, 3, 4, 5, 6, 7]
    assert status_names(tenant) == [
        "Niepotwierdzone",
        "Nowe",
        "W realizacji",
        "Wysłane",
        "Anulowane",
        "Do wysłania",
        "Zwrócone",
    ]
