"""What a busy poll costs and what one failing form costs: the forms of new purchases and
payments come through the list endpoint (100 per request) where it serves them as new as their
events, the rest one by one; a form Allegro fails on (5xx, no answer in time) is read again after
the others, and set aside when it keeps failing, while the others are stored in that same poll
and the cursor moves past what is stored."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from sync.models import StuckCheckoutForm
from tests.support.channels import make_channel
from tests.support.connect import connect
from tests.sync.helpers import (
    CHANNEL,
    SELLER,
    SELLER_PASSWORD,
    external_ids,
    mismatches,
    orders_by_external_id,
    poll,
    state_of,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.SYNC_GET_RETRIES = 1
    settings.SYNC_POLL_BUSY_SECONDS = 15
    settings.SYNC_LIST_READS = True


class Requests:
    """Allegro requests the sandbox served since the last look, by route."""

    def __init__(self, sandbox) -> None:
        self.sandbox = sandbox
        self.before = dict(sandbox.stats()["requests"])

    def since(self) -> dict[str, int]:
        now = self.sandbox.stats()["requests"]
        out = {}
        for route in ("order_events", "checkout_forms", "checkout_form"):
            out[route] = now.get(route, 0) - self.before.get(route, 0)
        self.before = dict(now)
        return out


def last_event_id(sandbox) -> str:
    return sandbox.journal(SELLER)["events"][-1]["id"]


def stuck_of(channel) -> list[tuple[str, int | None]]:
    with scopes_disabled():
        return list(
            StuckCheckoutForm.objects.filter(channel_id=channel.pk)
            .order_by("form_id")
            .values_list("form_id", "last_status")
        )


def comparable(channel) -> dict[str, tuple]:
    """What an order holds, to compare two channels' copies of the same Allegro orders."""
    return {
        external_id: (
            o.allegro_status,
            o.fulfillment_status,
            o.revision,
            o.buyer_login,
            o.buyer_email,
            o.delivery_address,
            o.invoice_address,
            o.payment_type,
            o.paid_amount,
            o.total_to_pay,
            o.status.name,
        )
        for external_id, o in orders_by_external_id(channel).items()
    }


def test_a_busy_poll_reads_new_paid_orders_through_one_list_request(
    channel, sync_env, settings, other_tenant, other_admin
):
    """Twelve paid orders (36 events): one events page and one list page, no single GET —
    where reading them one by one costs twelve GETs. Both store the same orders."""
    sandbox = sync_env.sandbox
    one_by_one = connect(
        make_channel(other_tenant, CHANNEL, name="Beta", alias="BE"), other_admin, SELLER_PASSWORD
    )
    poll(channel)
    poll(one_by_one)
    ids = sandbox.create_orders(SELLER, 12)
    assert len(sandbox.journal(SELLER)["events"]) == 36
    requests = Requests(sandbox)

    result = poll(channel)

    assert requests.since() == {"order_events": 1, "checkout_forms": 1, "checkout_form": 0}
    assert (result.status, result.requests, result.events, result.created) == ("done", 2, 36, 12)
    assert state_of(channel).cursor == last_event_id(sandbox)
    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted(ids)
    for form_id in ids:
        assert mismatches(orders[form_id], sandbox.order(form_id)["checkoutForm"]) == []

    settings.SYNC_LIST_READS = False
    result = poll(one_by_one)

    assert requests.since() == {"order_events": 1, "checkout_forms": 0, "checkout_form": 12}
    assert (result.requests, result.created) == (13, 12)
    assert comparable(one_by_one) == comparable(channel)


def test_a_form_the_list_leaves_out_is_read_on_its_own(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    ids = sandbox.create_orders(SELLER, 5)
    sandbox.call("PUT", f"/orders/{ids[3]}/unlisted")
    requests = Requests(sandbox)

    result = poll(channel)

    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted(ids)
    assert requests.since() == {"order_events": 1, "checkout_forms": 1, "checkout_form": 1}
    assert (result.status, result.requests, result.created) == ("done", 3, 5)
    assert mismatches(orders[ids[3]], sandbox.order(ids[3])["checkoutForm"]) == []
    assert state_of(channel).cursor == last_event_id(sandbox)


def test_forms_of_other_events_are_read_one_by_one(channel, sync_env):
    """A cancellation (or a fulfillment change) need not move updatedAt: such forms are not
    taken from the list, even among new purchases."""
    sandbox = sync_env.sandbox
    poll(channel)
    old = sandbox.create_orders(SELLER, 2)
    poll(channel)
    new = sandbox.create_orders(SELLER, 3)
    sandbox.advance_order(old[0], "BUYER_CANCELLED")
    requests = Requests(sandbox)

    result = poll(channel)

    assert requests.since() == {"order_events": 1, "checkout_forms": 1, "checkout_form": 1}
    assert (result.created, result.updated) == (3, 1)
    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted(old + new)
    assert orders[old[0]].allegro_status == "CANCELLED"


def test_a_single_new_order_costs_one_get(channel, sync_env):
    sandbox = sync_env.sandbox
    poll(channel)
    sandbox.create_orders(SELLER, 1)
    requests = Requests(sandbox)

    poll(channel)

    assert requests.since() == {"order_events": 1, "checkout_forms": 0, "checkout_form": 1}


@pytest.mark.parametrize("list_reads", [True, False], ids=["list", "one-by-one"])
def test_a_form_answering_500_costs_one_retry_and_the_others_are_stored(
    channel, sync_env, settings, list_reads
):
    settings.SYNC_LIST_READS = list_reads
    sandbox = sync_env.sandbox
    poll(channel)
    ids = sandbox.create_orders(SELLER, 4)
    failing = ids[1]
    sandbox.call("PUT", f"/orders/{failing}/unlisted")  # the list cannot help with it either
    sandbox.call("PUT", f"/orders/{failing}/unreadable", {"status": 503})
    requests = Requests(sandbox)

    result = poll(channel)

    # The failing form: one GET, one retry after the others, then set aside.
    expected = {"order_events": 1, "checkout_forms": 1, "checkout_form": 2}
    if not list_reads:
        expected.update(checkout_forms=0, checkout_form=2 + 3)
    assert requests.since() == expected
    assert (result.status, result.created, result.set_aside) == ("done", 3, 1)
    assert external_ids(channel) == sorted(i for i in ids if i != failing)
    assert stuck_of(channel) == [(failing, 503)]
    state = state_of(channel)
    assert state.cursor == last_event_id(sandbox)
    assert (state.consecutive_failures, state.last_error) == (0, "")


def test_a_form_without_an_answer_is_set_aside_and_the_others_are_stored(
    channel, sync_env, settings
):
    settings.SYNC_LIST_READS = False
    settings.ALLEGRO_READ_TIMEOUT = 0.5
    sandbox = sync_env.sandbox
    poll(channel)
    ids = sandbox.create_orders(SELLER, 3)
    silent = ids[0]
    sandbox.set_faults(
        seller=SELLER, timeout=1.0, hang_seconds=3, path_prefix=f"/order/checkout-forms/{silent}"
    )
    try:
        result = poll(channel)
    finally:
        sandbox.clear_faults(seller=SELLER)

    assert (result.status, result.created, result.set_aside) == ("done", 2, 1)
    assert external_ids(channel) == sorted(ids[1:])
    assert stuck_of(channel) == [(silent, None)]
    with scopes_disabled():
        [row] = StuckCheckoutForm.objects.filter(channel_id=channel.pk)
    assert row.last_answer_words == "Allegro did not answer in time"
    assert state_of(channel).cursor == last_event_id(sandbox)


def test_a_network_failure_stops_at_the_first_form_not_read(channel, sync_env, settings):
    """The whole account unreachable is no fault of one form: nothing is set aside and the
    cursor stays before the first form not read."""
    settings.SYNC_LIST_READS = False
    sandbox = sync_env.sandbox
    poll(channel)
    cursor = state_of(channel).cursor
    sandbox.create_orders(SELLER, 2)
    sandbox.set_faults(seller=SELLER, reset=1.0, path_prefix="/order/checkout-forms/")
    try:
        result = poll(channel)
    finally:
        sandbox.clear_faults(seller=SELLER)

    assert (result.status, result.created, result.set_aside) == ("failed", 0, 0)
    assert result.requests == 1 + 2  # the journal, then the first form twice (1 retry)
    assert stuck_of(channel) == []
    assert state_of(channel).cursor == cursor
    assert external_ids(channel) == []


def test_a_form_the_list_serves_older_than_its_event_is_read_on_its_own(channel, sync_env):
    """The list index lags: it still has the form as it was before the payment. Taken from the
    list, the order would stay unpaid; the form's updatedAt is older than the payment event, so
    it is read with its own GET."""
    sandbox = sync_env.sandbox
    poll(channel)
    [lagging] = sandbox.create_orders(SELLER, 1, status="BOUGHT")
    poll(channel)
    sandbox.call("PUT", f"/orders/{lagging}/unlisted", {"stale": True})
    sandbox.advance_order(lagging, "FILLED_IN")
    sandbox.advance_order(lagging, "READY_FOR_PROCESSING")
    new = sandbox.create_orders(SELLER, 2)
    requests = Requests(sandbox)

    result = poll(channel)

    orders = orders_by_external_id(channel)
    assert sorted(orders) == sorted([lagging, *new])
    assert orders[lagging].allegro_status == "READY_FOR_PROCESSING"
    assert requests.since() == {"order_events": 1, "checkout_forms": 1, "checkout_form": 1}
    assert (result.created, result.updated) == (2, 1)
    assert mismatches(orders[lagging], sandbox.order(lagging)["checkoutForm"]) == []
