"""Two polls of one account started together: one does the work, the other returns "skipped" at
once; no order twice, the cursor moves once. The companion test switches the poll lock off and
shows what it prevents (both polls read the journal and re-read every form)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from orders.models import OrderEvent
from sync import poll as journal_poll
from tests.sync.helpers import SELLER, external_ids, poll, state_of

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def one_by_one(settings):
    """Forms read one by one, so the GETs count the work each poll did."""
    settings.SYNC_LIST_READS = False


def _two_polls_together(channel) -> list:
    barrier = threading.Barrier(2)
    results: list = []
    errors: list = []

    def run() -> None:
        try:
            barrier.wait(timeout=10)
            with scope(tenant=channel.tenant):
                results.append(journal_poll.poll_channel(channel.pk))
        except Exception as exc:  # pragma: no cover - surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    return results


def _prepare(channel, sandbox) -> list[str]:
    poll(channel)  # bootstrap
    ids = sandbox.create_orders(SELLER, 5)
    # Every API call takes 150 ms, so the two polls certainly overlap.
    sandbox.set_faults(seller=SELLER, latency_ms=150)
    before = sandbox.stats()["requests"].get("checkout_form", 0)
    assert before == 0
    return ids


def _imported_events(channel) -> int:
    with scopes_disabled():
        return OrderEvent.objects.filter(order__channel_id=channel.pk, kind="imported").count()


def test_two_polls_started_together_do_the_work_once(channel, sync_env):
    sandbox = sync_env.sandbox
    ids = _prepare(channel, sandbox)
    advances = state_of(channel).cursor_advances

    results = _two_polls_together(channel)

    assert sorted(r.status for r in results) == ["done", "skipped"]
    [worker] = [r for r in results if r.status == "done"]
    assert (worker.events, worker.forms, worker.created) == (15, 5, 5)
    assert sandbox.stats()["requests"].get("checkout_form", 0) == 5
    assert external_ids(channel) == sorted(ids)
    assert _imported_events(channel) == 5
    state = state_of(channel)
    assert state.cursor_advances == advances + 1
    assert state.cursor == sandbox.journal(SELLER)["events"][-1]["id"]


def test_without_the_poll_lock_both_polls_do_the_work(channel, sync_env, monkeypatch):
    """What the lock prevents (this is the previous test with the lock switched off)."""
    monkeypatch.setattr(journal_poll, "_LOCK_POLL", False)
    sandbox = sync_env.sandbox
    ids = _prepare(channel, sandbox)

    results = _two_polls_together(channel)

    assert "skipped" not in [r.status for r in results]
    # Both read the journal and re-read every form: twice the Allegro requests.
    assert sandbox.stats()["requests"].get("checkout_form", 0) == 10
    # The cursor guard and the ingest's unique keys still keep the data right.
    assert sorted(r.status for r in results) == ["done", "failed"]
    assert external_ids(channel) == sorted(ids)
    assert _imported_events(channel) == 5
