"""The offer import under a real Celery worker: the first authorization's sweep runs as a chain
of page tasks to the end, and beat's task applies offer events."""

from __future__ import annotations

import pytest

from apilo.celery import app
from catalog import tasks
from tests.catalog.helpers_offers import SELLER, state_of, stored
from tests.celery_support import wait_until


@pytest.mark.django_db(transaction=True)
def test_the_first_sweep_and_the_events_poll_run_in_a_worker(
    connect_channel, catalog_env, celery_processes
) -> None:
    sandbox = catalog_env.sandbox
    sandbox.create_offers(SELLER, 2100)
    (worker,) = celery_processes(catalog_env.worker_env(), beat=False)

    channel = connect_channel()  # its sweep's first page is queued after the commit

    # A bound, not a timing: three pages and their EAN reads take seconds on an idle machine,
    # a minute or more on one whose two cores run other suites (wait_until returns at once).
    wait_until(lambda: state_of(channel).sweep_state == "done", 240, worker.output()[-3000:])
    rows = stored(channel)
    assert len(rows) == 2100 and set(rows) == {o["id"] for o in sandbox.offers_of(SELLER)}
    assert state_of(channel).sweep_done == 2100
    assert worker.output().count("Task catalog.tasks.sweep_offers_page[") >= 3

    offer = next(o for o in sandbox.offers_of(SELLER) if o["status"] == "ACTIVE")
    sandbox.change_offer(offer["id"], price=321.5, stock=4)
    app.send_task(tasks.poll_due_offer_events.name)

    wait_until(
        lambda: stored(channel)[offer["id"]].stock_available == 4, 120, worker.output()[-3000:]
    )
    assert str(stored(channel)[offer["id"]].price) == "321.50"
