"""Carriers come from the list a task stored, never from Allegro while a page renders or a
shipment is saved: a channel without a list gets the built-in one and a refresh is queued; the
refresh (a channel connecting, a page, beat) asks Allegro outside any transaction and stores its
answer; a failed refresh stores nothing of its own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.api import call
from fulfillment.models import ChannelCarriers, Shipment
from fulfillment.services.carriers import KNOWN, refresh_due
from fulfillment.tasks import refresh_carriers
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order
from tests.celery_support import wait_until
from tests.fulfillment.helpers import CHANNEL, SELLER, SELLER_PASSWORD
from tests.support.channels import make_channel
from tests.support.connect import connect

pytestmark = pytest.mark.django_db(transaction=True)

# /order/carriers of the sandbox as stored: Allegro's ids and names, without OTHER.
SANDBOX_CARRIERS = [
    ["ALLEGRO", "Allegro One Kurier"],
    ["INPOST", "InPost"],
    ["DPD", "DPD"],
    ["DHL", "DHL"],
    ["UPS", "UPS"],
    ["GLS", "GLS"],
    ["POCZTA_POLSKA", "Poczta Polska"],
    ["ORLEN", "ORLEN Paczka"],
    ["FEDEX", "FedEx"],
    ["GEIS", "Geis"],
    ["RABEN", "Raben"],
    ["DB_SCHENKER", "DB Schenker"],
    ["YUN_EXPRESS", "Yun Express"],
]
FALLBACK_IDS = [cid for cid, _name in KNOWN]


@pytest.fixture
def web(admin_user) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(admin_user)
    return client


def served(sandbox) -> int:
    """Requests the sandbox has answered on its API and OAuth endpoints."""
    return sandbox.stats()["requests"].get("total", 0)


def import_with_method(channel: SalesChannel, sandbox, name: str) -> Order:
    [external_id] = sandbox.create_orders(SELLER, 1)
    with scope(tenant=channel.tenant):
        form = call(channel, "GET", f"/order/checkout-forms/{external_id}").data
        form["delivery"]["method"]["name"] = name
        result = upsert_order_from_checkout_form(channel, form)
    with scopes_disabled():
        return Order.objects.get(pk=result.order_id)


def expire_token(channel: SalesChannel) -> None:
    """Our record says the access token ran out: the next call refreshes it first."""
    with scopes_disabled():
        AllegroCredential.objects.filter(channel=channel).update(
            access_expires_at=timezone.now() - timedelta(minutes=1)
        )


def stored(channel: SalesChannel) -> ChannelCarriers | None:
    with scopes_disabled():
        return ChannelCarriers.objects.filter(channel=channel).first()


def carrier_select(html: str) -> tuple[list[str], list[str]]:
    """(every option value, the selected ones) of the form's carrier select."""
    start = html.index('name="carrier_id"')
    select = html[start : html.index("</select>", start)]
    options = select.split("<option")[1:]
    values = [part.split('"')[1] for part in options]
    chosen = [value for value, part in zip(values, options, strict=True) if "selected" in part]
    return values, chosen


@pytest.mark.parametrize("token", ["valid", "expired"])
def test_a_shipment_with_no_stored_carriers_calls_nothing_and_the_refresh_stores_allegros(
    web, channel, push_env, token
):
    sandbox = push_env.sandbox
    order = import_with_method(channel, sandbox, "Allegro Automat ORLEN Paczka")
    if token == "expired":
        expire_token(channel)
    assert stored(channel) is None
    before = served(sandbox)
    token_calls = push_env.token_calls()
    page_url = reverse("orders:detail", kwargs={"tenant_slug": "alfa", "order_id": order.pk})
    form_url = reverse(
        "fulfillment:add_shipment", kwargs={"tenant_slug": "alfa", "order_id": order.pk}
    )

    # The pages show the built-in list (ORLEN is not on it: nothing proposed).
    for url in (page_url, form_url):
        response = web.get(url)
        assert response.status_code == 200
        assert carrier_select(response.content.decode()) == (["", *FALLBACK_IDS, "OTHER"], [""])
    with scopes_disabled():
        line_ids = list(order.lines.values_list("external_id", flat=True))
    response = web.post(
        form_url, {"carrier_id": "DPD", "waybill": "620111222333", "line_ids": line_ids}
    )
    assert response.status_code == 302
    with scopes_disabled():
        shipment = Shipment.objects.get(order_id=order.pk)
    assert (shipment.carrier_id, shipment.carrier_name, shipment.waybill) == (
        "DPD",
        "DPD",
        "620111222333",
    )
    # Not one request reached Allegro: no carriers, no token refresh (the push waits for a
    # worker), and the fallback list was not stored as Allegro's.
    assert served(sandbox) == before
    assert push_env.token_calls() == token_calls
    assert stored(channel) is None

    # The refresh the page queued, run as a worker runs it: outside any transaction.
    assert refresh_carriers(channel.tenant_id, channel.pk) is True
    row = stored(channel)
    assert row.carriers == SANDBOX_CARRIERS
    assert row.fetched_at is not None
    assert row.next_refresh_at - row.fetched_at == timedelta(hours=24)
    refreshes = 1 if token == "expired" else 0
    assert sandbox.stats()["requests"].get("carriers") == 1
    assert served(sandbox) == before + 1 + refreshes
    assert push_env.token_calls()["calls"] == {
        "authorization_code": 1,
        **({"refresh_token": 1} if refreshes else {}),
    }

    # From now on the pages show Allegro's list and propose ORLEN, still without a request.
    before = served(sandbox)
    ids = [cid for cid, _name in SANDBOX_CARRIERS]
    for url in (page_url, form_url):
        response = web.get(url)
        assert response.status_code == 200
        assert carrier_select(response.content.decode()) == (["", *ids, "OTHER"], ["ORLEN"])
    assert served(sandbox) == before
    # The list survives a Redis flush: it is a row, the cache only sits in front of it.
    cache.clear()
    response = web.get(form_url)
    assert carrier_select(response.content.decode()) == (["", *ids, "OTHER"], ["ORLEN"])
    assert served(sandbox) == before


def test_a_failed_refresh_stores_nothing_of_its_own_and_keeps_allegros_list(
    web, channel, push_env, caplog
):
    sandbox = push_env.sandbox
    sandbox.set_faults(seller=SELLER, error_5xx=1.0, error_status=503, path_prefix="/order/")
    started = timezone.now()
    assert refresh_carriers(channel.tenant_id, channel.pk) is False
    row = stored(channel)
    assert (row.carriers, row.fetched_at) == ([], None)
    assert timedelta(seconds=600) <= row.next_refresh_at - started < timedelta(seconds=610)
    assert [r.getMessage() for r in caplog.records if r.name == "fulfillment.carriers"] == [
        f"carriers of channel {channel.pk} unavailable: AllegroTransientError: Allegro answered 503"
    ]

    sandbox.clear_faults()
    assert refresh_carriers(channel.tenant_id, channel.pk) is True
    fetched_at = stored(channel).fetched_at
    sandbox.set_faults(seller=SELLER, error_5xx=1.0, error_status=503, path_prefix="/order/")
    assert refresh_carriers(channel.tenant_id, channel.pk) is False
    row = stored(channel)
    assert (row.carriers, row.fetched_at) == (SANDBOX_CARRIERS, fetched_at)


def test_beat_claims_missing_and_due_lists_of_connected_channels_once(channel, push_env, tenant):
    with scope(tenant=tenant):
        asleep = make_channel(tenant, CHANNEL, name="Nie połączony", alias="NP")
    assert asleep.connection_state != ConnectionState.CONNECTED
    assert refresh_due(limit=50) == [(channel.tenant_id, channel.pk)]
    row = stored(channel)
    assert (row.carriers, row.fetched_at) == ([], None)
    assert row.next_refresh_at > timezone.now() + timedelta(seconds=590)
    # Claimed: the next tick leaves it alone while its refresh waits in the queue.
    assert refresh_due(limit=50) == []
    assert refresh_carriers(channel.tenant_id, channel.pk) is True
    assert refresh_due(limit=50) == []
    with scopes_disabled():
        ChannelCarriers.objects.filter(channel=channel).update(
            next_refresh_at=timezone.now() - timedelta(seconds=1)
        )
    assert refresh_due(limit=50) == [(channel.tenant_id, channel.pk)]
    assert stored(asleep) is None
    assert settings.CELERY_BEAT_SCHEDULE["fulfillment-carriers"]["task"] == (
        "fulfillment.tasks.refresh_due_carriers"
    )


def test_connecting_a_channel_stores_its_carriers_in_a_worker(
    tenant, admin_user, push_env, celery_processes
):
    celery_processes(push_env.worker_env(), beat=False)
    channel = connect(make_channel(tenant, CHANNEL), admin_user, SELLER_PASSWORD)
    wait_until(lambda: stored(channel) and stored(channel).carriers, 30, "carriers stored")
    assert stored(channel).carriers == SANDBOX_CARRIERS
    assert push_env.sandbox.stats()["requests"].get("carriers") == 1


def test_beat_stores_the_carriers_of_a_channel_without_a_list(channel, push_env, celery_processes):
    assert stored(channel) is None
    celery_processes(push_env.worker_env(FULFILLMENT_CARRIERS_SWEEP_SECONDS="1"))
    wait_until(lambda: stored(channel) and stored(channel).carriers, 30, "carriers stored")
    assert stored(channel).carriers == SANDBOX_CARRIERS
