"""The event feed (GET /api/v1/events/): every timeline entry once, in commit order, no gaps.

A serial id is given when a row is inserted, not when its transaction commits: a reader that
walks ids can pass an id whose transaction is still open and never come back for it. The
feed's positions are given at commit (adr/0012). The first test builds that interleaving by
hand and shows a reader of ids losing the entry while the feed keeps it; the second runs
writers in threads against a poller that reads the feed all the while.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django_scopes import scope

from api import feed
from api.models import FeedEntry
from orders import changes
from orders.models import Order, OrderEvent, OrderEventKind
from tests.api.helpers import api, imported_order, key_of
from tests.support.orders import status_of

WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)
WAIT_LIMIT = 15  # seconds; a safety net so a broken interleaving cannot hang the suite


def _naive_read(tenant, after_id: int) -> list[int]:
    """What a feed keyed on the timeline's serial id would serve after ``after_id``."""
    with scope(tenant=tenant):
        return list(
            OrderEvent.objects.filter(tenant=tenant, pk__gt=after_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )


def _feed_read(tenant, after: int) -> tuple[list[int], int]:
    with scope(tenant=tenant):
        page = feed.read(tenant, after, 500)
    return [entry.event_id for entry in page.entries], page.next


@pytest.mark.django_db(transaction=True)
def test_an_entry_committed_after_a_later_one_is_not_skipped(tenant):
    first = imported_order(tenant, bought_at=WHEN)
    second = imported_order(tenant, bought_at=WHEN + dt.timedelta(hours=1))
    in_progress = status_of(tenant, "in_progress")
    with scope(tenant=tenant):
        Order.objects.filter(pk=second.pk).update(needs_attention=True)
    naive_after = max(_naive_read(tenant, 0))
    _ids, feed_after = _feed_read(tenant, 0)
    inserted = threading.Event()
    release = threading.Event()
    errors: list[BaseException] = []
    written: list[int] = []

    def slow_writer() -> None:
        # Inserts its entry (the lower id) and commits only after the other writer did.
        try:
            with scope(tenant=tenant), transaction.atomic():
                changes.change_order_status(first, in_progress, None)
                written.append(OrderEvent.objects.filter(order=first).latest("pk").pk)
                inserted.set()
                assert release.wait(WAIT_LIMIT)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    assert inserted.wait(WAIT_LIMIT)
    with scope(tenant=tenant):
        # Another kind of change (a status change would wait for the first's status counts).
        assert changes.resolve_attention(second, None)
        late = OrderEvent.objects.filter(order=second).latest("pk").pk
    early = written[0]
    assert early < late
    # The poller reads while the first writer is still open.
    naive_seen = _naive_read(tenant, naive_after)
    feed_seen, feed_after = _feed_read(tenant, feed_after)
    assert naive_seen == [late] and feed_seen == [late]
    naive_after = max(naive_seen)
    release.set()
    thread.join(WAIT_LIMIT)
    assert not errors
    # The naive reader walked past the lower id and never sees it; the feed serves it next.
    assert _naive_read(tenant, naive_after) == []
    assert _feed_read(tenant, feed_after)[0] == [early]
    with scope(tenant=tenant):
        positions = dict(FeedEntry.objects.values_list("event_id", "position"))
    assert positions[late] + 1 == positions[early]


WRITERS = 4
ROUNDS = 25


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_and_a_poller_see_every_entry_once_in_order(tenant):
    orders = [imported_order(tenant, bought_at=WHEN + dt.timedelta(minutes=i)) for i in range(12)]
    codes = ["in_progress", "new"]
    statuses = [status_of(tenant, code) for code in codes]
    done = threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            with scope(tenant=tenant):
                for _round in range(ROUNDS):
                    target = rng.choice(statuses)
                    with transaction.atomic():
                        if rng.random() < 0.3:
                            picked = rng.sample(orders, 3)
                            changes.bulk_change_status(tenant, [o.pk for o in picked], target, None)
                        else:
                            pk = rng.choice(orders).pk
                            order = Order.objects.get(pk=pk)
                            changes.change_order_status(order, target, None)
                        # Hold the transaction open a little, so others commit in between.
                        time.sleep(rng.random() * 0.004)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def poller() -> None:
        after = 0
        try:
            while True:
                finished = done.is_set()  # read before the page: a last full read follows
                ids, after = _feed_read(tenant, after)
                seen.extend(ids)
                if finished and not ids:
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    reading = threading.Thread(target=poller)
    reading.start()
    writers = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(60)
    done.set()
    reading.join(60)
    assert not errors, errors
    with scope(tenant=tenant):
        every = list(
            FeedEntry.objects.filter(tenant=tenant)
            .order_by("position")
            .values_list("position", "event_id")
        )
        all_events = set(OrderEvent.objects.filter(tenant=tenant).values_list("pk", flat=True))
    assert [position for position, _id in every] == list(range(1, len(every) + 1))  # no gaps
    assert {event_id for _pos, event_id in every} == all_events  # every entry has a place
    assert len(seen) == len(set(seen))  # no duplicates
    assert seen == [event_id for _pos, event_id in every]  # all of them, in order
    status_changes = sum(1 for pk in seen if pk in set(_status_change_ids(tenant)))
    assert status_changes > WRITERS * ROUNDS / 2  # the writers did change statuses


def _status_change_ids(tenant) -> list[int]:
    with scope(tenant=tenant):
        return list(
            OrderEvent.objects.filter(kind=OrderEventKind.STATUS_CHANGED).values_list(
                "pk", flat=True
            )
        )


@pytest.mark.django_db(transaction=True)
def test_the_feed_over_http_reads_on_from_next(tenant, other_tenant):
    order = imported_order(tenant, bought_at=WHEN)
    imported_order(other_tenant, bought_at=WHEN, alias="BE")
    with scope(tenant=tenant):
        changes.change_order_status(order, status_of(tenant, "in_progress"), None)
        kinds = list(OrderEvent.objects.order_by("pk").values_list("pk", "kind"))
    client = api(key_of(tenant, "read"))
    first = client.get(reverse("api:events"), {"limit": 1}).json()
    assert [(e["position"], e["id"], e["kind"]) for e in first["results"]] == [
        (1, kinds[0][0], kinds[0][1])
    ]
    assert first["results"][0]["order_id"] == order.pk
    assert first["next"] == 1 and first["has_more"] is True
    rest = client.get(reverse("api:events"), {"from": first["next"]}).json()
    assert [e["id"] for e in rest["results"]] == [pk for pk, _kind in kinds[1:]]
    assert rest["results"][-1]["description"] == "Status: Nowe → W realizacji"
    assert rest["has_more"] is False
    empty = client.get(reverse("api:events"), {"from": rest["next"]}).json()
    assert empty == {"results": [], "next": rest["next"], "has_more": False}
    # The other company's feed starts at its own 1 and shows only its own entries.
    theirs = api(key_of(other_tenant, "read")).get(reverse("api:events")).json()
    assert theirs["results"][0]["position"] == 1
    assert {e["order_id"] for e in theirs["results"]} != {order.pk}
