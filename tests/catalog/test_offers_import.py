"""The import of a channel's offers from allegro_sandbox over HTTP: the sweep (pages of 1000,
exact fields, EAN from the product set, removals), offer events (price, stock, end, archive,
SKU change, a purchase), the fallback when the events cursor expired, and sweeps and events
interleaved without duplicates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from catalog.models import ChannelCatalogState, Offer, SweepReason, SweepState
from catalog.services import offers
from tests.catalog.helpers_offers import (
    SELLER,
    SELLER_PASSWORD,
    listing_fields,
    poll,
    run_sweep,
    sandbox_fields,
    state_of,
    stored,
)
from tests.support.connect import connect

pytestmark = pytest.mark.django_db


def test_first_authorization_imports_3000_offers_in_pages(
    connect_channel, catalog_env, settings
) -> None:
    sandbox = catalog_env.sandbox
    sandbox.create_offers(SELLER, 3000)
    channel = connect_channel()

    state = state_of(channel)
    assert (state.sweep_state, state.sweep_reason, state.sweep_run) == ("running", "first", 1)
    assert run_sweep(channel) == 3

    rows = stored(channel)
    raw = {o["id"]: o for o in sandbox.offers_of(SELLER)}
    assert len(rows) == 3000 and set(rows) == set(raw)
    for external_id in sorted(raw)[::97]:
        assert listing_fields(rows[external_id]) == sandbox_fields(raw[external_id])
        assert rows[external_id].url == f"{sandbox.base_url}/oferta/{external_id}"
        assert rows[external_id].removed_at is None
    state = state_of(channel)
    assert (state.sweep_state, state.sweep_done, state.sweep_total) == ("done", 3000, 3000)
    assert state.events_cursor  # taken before the first page
    # EANs: read for the first CATALOG_OFFER_EAN_READS_PER_PAGE offers of each page.
    checked = [o for o in rows.values() if o.ean_checked_at is not None]
    assert len(checked) == 3 * settings.CATALOG_OFFER_EAN_READS_PER_PAGE
    assert all(o.ean == (raw[o.external_id]["ean"] or "") for o in checked)
    assert any(o.ean for o in checked) and any(not o.ean for o in checked)
    assert all(o.ean == "" for o in rows.values() if o.ean_checked_at is None)
    # Every 40th offer has no SKU; the 21st of every 40 repeats the SKU of the one before.
    with scope(tenant=channel.tenant):
        counts = offers.offer_counts(channel)
    assert counts == offers.OfferCounts(
        offers=3000, linked=0, without_sku=75, duplicate_sku=150, removed=0
    )


def test_reconnecting_does_not_sweep_again(connect_channel, catalog_env, admin_user) -> None:
    catalog_env.sandbox.create_offers(SELLER, 5)
    channel = connect_channel()
    run_sweep(channel)

    connect(channel, admin_user, SELLER_PASSWORD)  # authorized again

    state = state_of(channel)
    assert (state.sweep_state, state.sweep_run) == ("done", 1)


def _swept(connect_channel, sandbox, count: int):
    sandbox.create_offers(SELLER, count)
    channel = connect_channel()
    run_sweep(channel)
    return channel


def _active(sandbox, n: int) -> list[dict]:
    return [o for o in sandbox.offers_of(SELLER) if o["status"] == "ACTIVE"][:n]


def test_offer_events_change_price_stock_status_sku_and_archive(
    connect_channel, catalog_env
) -> None:
    sandbox = catalog_env.sandbox
    channel = _swept(connect_channel, sandbox, 60)
    a, b, c, d, e = _active(sandbox, 5)
    sandbox.change_offer(a["id"], price=12.34)
    sandbox.change_offer(b["id"], stock=0)
    sandbox.change_offer(c["id"], status="ENDED")
    sandbox.change_offer(d["id"], sku="NOWY-SKU-1")
    sandbox.change_offer(e["id"], status="ENDED")
    sandbox.change_offer(e["id"], archived=True)
    untouched = stored(channel)

    assert poll(channel) == offers.DONE

    rows = stored(channel)
    raw = {o["id"]: o for o in sandbox.offers_of(SELLER)}
    for offer in (a, b, c, d):
        assert listing_fields(rows[offer["id"]]) == sandbox_fields(raw[offer["id"]])
    assert str(rows[a["id"]].price) == "12.34"
    assert rows[b["id"]].stock_available == 0
    assert rows[c["id"]].status == "ENDED"
    assert rows[d["id"]].sku == "NOWY-SKU-1"
    assert rows[d["id"]].ean_checked_at is not None  # an OFFER_CHANGED reads the EAN again
    assert rows[d["id"]].ean == (raw[d["id"]]["ean"] or "")
    assert rows[e["id"]].removed_at is not None  # archived: kept, marked
    assert len(rows) == 60
    # Nothing else was touched.
    changed = {a["id"], b["id"], c["id"], d["id"], e["id"]}
    for external_id, row in rows.items():
        if external_id not in changed:
            assert row.updated_at == untouched[external_id].updated_at
    state = state_of(channel)
    assert state.events_checked_at is not None and state.sweep_run == 1
    # Read again: the cursor moved past them.
    before = stored(channel)
    assert poll(channel) == offers.DONE
    assert {k: v.updated_at for k, v in stored(channel).items()} == {
        k: v.updated_at for k, v in before.items()
    }


def test_a_purchase_on_allegro_lowers_the_offers_stock(connect_channel, catalog_env) -> None:
    sandbox = catalog_env.sandbox
    channel = _swept(connect_channel, sandbox, 20)
    (order_id,) = sandbox.create_orders(SELLER, 1, lines=1, seed=7)
    (line,) = sandbox.order(order_id)["checkoutForm"]["lineItems"]
    offer_id = line["offer"]["id"]
    raw = {o["id"]: o for o in sandbox.offers_of(SELLER)}
    before = stored(channel)[offer_id].stock_available
    assert raw[offer_id]["available"] == max(0, before - line["quantity"])

    poll(channel)

    assert stored(channel)[offer_id].stock_available == raw[offer_id]["available"]


def test_an_expired_cursor_falls_back_to_a_sweep(connect_channel, catalog_env) -> None:
    sandbox = catalog_env.sandbox
    channel = _swept(connect_channel, sandbox, 30)
    # A day without reading the events (workers down): Allegro dropped them meanwhile.
    with scopes_disabled():
        ChannelCatalogState.objects.filter(channel_id=channel.pk).update(
            events_checked_at=timezone.now() - dt.timedelta(hours=25)
        )
    sandbox.expire_offer_events(SELLER)
    (offer,) = _active(sandbox, 1)
    sandbox.change_offer(offer["id"], price=99.99)
    sandbox.expire_offer_events(SELLER)  # that change's event is gone too

    poll(channel)

    state = state_of(channel)
    assert (state.sweep_state, state.sweep_reason, state.sweep_run) == (
        "running",
        SweepReason.CURSOR_EXPIRED,
        2,
    )
    run_sweep(channel)
    assert str(stored(channel)[offer["id"]].price) == "99.99"
    assert state_of(channel).sweep_state == SweepState.DONE


def test_a_refused_cursor_read_within_24_hours_replays_the_kept_events(
    connect_channel, catalog_env
) -> None:
    sandbox = catalog_env.sandbox
    channel = _swept(connect_channel, sandbox, 30)
    sandbox.expire_offer_events(SELLER)  # the cursor's event is no longer kept
    (offer,) = _active(sandbox, 1)
    sandbox.change_offer(offer["id"], stock=3)

    poll(channel)

    assert stored(channel)[offer["id"]].stock_available == 3
    state = state_of(channel)
    assert (state.sweep_state, state.sweep_run) == ("done", 1)  # no sweep needed


def test_an_offer_deleted_on_allegro_is_removed_by_the_next_sweep(
    connect_channel, catalog_env
) -> None:
    sandbox = catalog_env.sandbox
    channel = _swept(connect_channel, sandbox, 30)
    draft = next(o for o in sandbox.offers_of(SELLER) if o["status"] != "ACTIVE")
    sandbox.change_offer(draft["id"], deleted=True)
    poll(channel)  # drafts have no events
    assert stored(channel)[draft["id"]].removed_at is None

    with scope(tenant=channel.tenant):
        assert offers.start_offer_sweep(channel, SweepReason.MANUAL) is True
        assert offers.start_offer_sweep(channel, SweepReason.MANUAL) is False  # one at a time
    run_sweep(channel)

    rows = stored(channel)
    assert rows[draft["id"]].removed_at is not None
    assert [k for k, v in rows.items() if v.removed_at is not None] == [draft["id"]]
    assert len(rows) == 30


def test_a_sweep_and_offer_events_interleaved_leave_one_row_per_offer(
    connect_channel, catalog_env, settings
) -> None:
    sandbox = catalog_env.sandbox
    sandbox.create_offers(SELLER, 2500)
    channel = connect_channel()
    run = state_of(channel).sweep_run
    with scope(tenant=channel.tenant):
        assert offers.sweep_page(channel.pk, run).again
    # While the sweep is paged: new offers (at the listing's front: it shifts), changes.
    sandbox.create_offers(SELLER, 40)
    first = _active(sandbox, 3)
    for offer in first:
        sandbox.change_offer(offer["id"], price=1.5)
    with scope(tenant=channel.tenant):
        assert offers.sweep_page(channel.pk, run - 1) == offers.DONE  # an older run's task
    run_sweep(channel)
    poll(channel)

    rows = stored(channel)
    raw = {o["id"]: o for o in sandbox.offers_of(SELLER)}
    assert len(rows) == 2540 and set(rows) == set(raw)
    with scopes_disabled():
        assert Offer.objects.filter(channel_id=channel.pk).count() == 2540
    for offer in first:
        assert str(rows[offer["id"]].price) == "1.50"
    assert all(row.removed_at is None for row in rows.values())


def test_the_upsert_is_what_keeps_one_row_per_offer(connect_channel, catalog_env) -> None:
    """The unique constraint behind the upsert: a plain insert of an offer already stored is
    refused (so a sweep without ON CONFLICT would fail, not duplicate)."""
    sandbox = catalog_env.sandbox
    channel = _swept(connect_channel, sandbox, 3)
    row = next(iter(stored(channel).values()))
    with scope(tenant=channel.tenant), pytest.raises(IntegrityError):
        Offer.objects.bulk_create(
            [Offer(tenant_id=channel.tenant_id, channel=channel, external_id=row.external_id)]
        )


def test_a_sweep_resumes_at_its_page_after_allegro_fails(connect_channel, catalog_env) -> None:
    sandbox = catalog_env.sandbox
    sandbox.create_offers(SELLER, 2500)
    channel = connect_channel()
    run = state_of(channel).sweep_run
    with scope(tenant=channel.tenant):
        assert offers.sweep_page(channel.pk, run).again
        sandbox.set_faults(seller=SELLER, error_5xx=1.0, path_prefix="/sale/offers")
        step = offers.sweep_page(channel.pk, run)
        assert step == offers.Step(retry_in=offers.TRANSIENT_RETRY_SECONDS)
        state = state_of(channel)
        assert (state.sweep_state, state.sweep_offset, state.sweep_done) == ("running", 1000, 1000)
        sandbox.clear_faults(seller=SELLER)
    run_sweep(channel)
    assert len(stored(channel)) == 2500
    assert state_of(channel).sweep_state == "done"
