"""Courier pickups of label shipments against allegro_sandbox over HTTP: Allegro's windows,
the pickup ordered once under a derived command id, Allegro's refusal in its words, the pages
and another tenant's pickup (404).

The pickup's steps run in the test process as their tasks would."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from channels.clients.allegro import AllegroClient
from channels.services.api import on_behalf
from fulfillment.models import CourierPickup, LabelState, PickupState
from fulfillment.services.labels import pickups
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.jobs import cancel_label, create_label
from tests.labels.helpers import fresh, proposal_for, run
from tests.support.orders import import_orders

pytestmark = pytest.mark.django_db(transaction=True)


def labels(channel, account, sandbox, count: int, seed: int) -> list:
    orders = import_orders(channel, sandbox, count, delivery="courier", seed=seed)
    done = []
    for order in orders:
        proposal_for(order)
        with scope(tenant=order.tenant):
            done.append(run(create_label(order, account, parcels=None, actor=None)))
    assert {job.state for job in done} == {LabelState.READY}
    return done


def pickup_of(pickup: CourierPickup) -> CourierPickup:
    with scopes_disabled():
        return CourierPickup.objects.get(pk=pickup.pk)


def allegro_pickup(channel, pickup_id: str) -> dict[str, Any]:
    def get(client: AllegroClient, *, access_token: str, log_context: Any) -> Any:
        path = f"/shipment-management/pickups/{pickup_id}"
        return client.request("GET", path, access_token=access_token, log_context=log_context).data

    with scope(tenant=channel.tenant):
        return on_behalf(channel, get)


def windows(sandbox) -> list[dict[str, str]]:
    """The sandbox offers 10:00–16:00 on each of the three days after its today."""
    today = date.fromisoformat(sandbox.now()[:10])
    return [
        {"date": (today + timedelta(days=d)).isoformat(), "minTime": "10:00", "maxTime": "16:00"}
        for d in (1, 2, 3)
    ]


def test_a_pickup_of_two_labels_is_ordered_once(channel, account, push_env, admin_user) -> None:
    sb = push_env.sandbox
    done = labels(channel, account, sb, 2, seed=41)
    with scope(tenant=channel.tenant):
        pickup = pickups.start_pickup(account, [j.pk for j in done], admin_user)
        # the sweeper finds it should its message be lost
        assert (channel.tenant_id, pickup.pk, "proposing") in pickups.open_pickups_due()
        assert pickups.propose(channel.tenant_id, pickup.pk).state == PickupState.CHOOSING
    pickup = pickup_of(pickup)
    assert pickup.slots == windows(sb)
    assert pickup.wza_shipment_ids == [j.wza_shipment_id for j in done]
    with scope(tenant=channel.tenant):
        pickups.choose_window(pickup, 1, admin_user)
        # the first run sends the command; a run after it (its answer lost, the worker
        # killed before it stored more) reads the status instead of sending again
        first = pickups.advance(channel.tenant_id, pickup.pk)
        assert first.state == PickupState.ORDERING and first.retry_in is not None
        assert pickups.advance(channel.tenant_id, pickup.pk).state == PickupState.ORDERED
    pickup = pickup_of(pickup)
    assert pickup.command_id == pickups.command_id(channel.tenant_id, pickup.pk, 1)
    assert pickup.pickup_time == windows(sb)[1]
    assert sb.stats()["requests"]["wza_pickup"] == 1
    seen = allegro_pickup(channel, pickup.pickup_id)
    assert seen["shipmentIds"] == [j.wza_shipment_id for j in done]
    assert seen["waybills"] == [w for j in done for w in j.waybills]
    assert seen["carrierPickupId"] == pickup.carrier_pickup_id
    assert seen["address"] == {
        "name": "Jan Sprzedawca",
        "company": "Alfa sp. z o.o.",
        "street": "Główna 30",
        "postalCode": "60-166",
        "city": "Poznań",
        "countryCode": "PL",
        "email": "wysylki@alfa.example",
        "phone": "500600700",
    }


def test_a_refused_pickup_keeps_allegros_words_and_another_time_can_be_chosen(
    channel, account, push_env, admin_user
) -> None:
    sb = push_env.sandbox
    (job,) = labels(channel, account, sb, 1, seed=42)
    with scope(tenant=channel.tenant):
        pickup = pickups.start_pickup(account, [job.pk], admin_user)
        pickups.propose(channel.tenant_id, pickup.pk)
        # cancelled in the meantime: Allegro refuses the pickup
        assert cancel_label(fresh(job), admin_user)
    assert run(fresh(job)).state == LabelState.CANCELLED
    with scope(tenant=channel.tenant):
        pickups.choose_window(pickup_of(pickup), 0, admin_user)
        for _ in range(3):
            step = pickups.advance(channel.tenant_id, pickup.pk)
            if step.retry_in is None:
                break
    pickup = pickup_of(pickup)
    assert pickup.state == PickupState.ERROR
    assert [e["userMessage"] for e in pickup.errors] == [
        f"Nie można zamówić odbioru przesyłki {job.wza_shipment_id}"
    ]
    with scope(tenant=channel.tenant):
        again = pickups.choose_window(pickup, 2, admin_user)
    assert (again.state, again.attempt, again.errors) == (PickupState.ORDERING, 2, [])
    assert again.command_id == pickups.command_id(channel.tenant_id, pickup.pk, 2)
    assert again.command_id != pickup.command_id


def test_only_the_accounts_made_labels_can_be_picked_up(
    channel, account, push_env, admin_user
) -> None:
    from tests.labels.helpers import courier_account

    (job,) = labels(channel, account, push_env.sandbox, 1, seed=43)
    other = courier_account(channel, name="Drugi magazyn")
    with scope(tenant=channel.tenant):
        with pytest.raises(LabelError) as refused:
            pickups.start_pickup(other, [job.pk], admin_user)
        assert refused.value.message == (
            "Some of these shipments were cancelled or belong to another courier account."
        )
        with pytest.raises(LabelError) as empty:
            pickups.start_pickup(account, [], admin_user)
        assert empty.value.message == "Select the shipments for the courier to collect."
        assert not CourierPickup.objects.exists()


def test_the_pickup_pages(
    tenant, other_tenant, admin_user, other_admin, channel, account, push_env
) -> None:
    sb = push_env.sandbox
    (job,) = labels(channel, account, sb, 1, seed=44)
    c = Client()
    c.force_login(admin_user)
    base = f"/app/{tenant.slug}/fulfillment/pickups"
    page = c.get(f"{base}/new/?account={account.pk}")
    assert page.status_code == 200
    assert job.waybills[0] in page.content.decode()
    assert c.post(f"{base}/new/", {"courier_account": account.pk}).status_code == 400
    r = c.post(f"{base}/new/", {"courier_account": account.pk, "job_ids": [job.pk]})
    with scopes_disabled():
        pickup = CourierPickup.objects.get(tenant=tenant)
    assert r.status_code == 302 and r["Location"] == f"{base}/{pickup.pk}/"
    assert "Allegro is asked for pickup times…" in c.get(f"{base}/{pickup.pk}/").content.decode()
    with scope(tenant=tenant):
        pickups.propose(tenant.pk, pickup.pk)
    slot = windows(sb)[0]
    shown = c.get(f"{base}/{pickup.pk}/").content.decode()
    assert f"{slot['date']}, 10:00–16:00" in shown
    r = c.post(f"{base}/{pickup.pk}/order/", {"slot": "0"})
    assert r.status_code == 302
    with scope(tenant=tenant):
        while pickups.advance(tenant.pk, pickup.pk).retry_in is not None:
            pass
    pickup = pickup_of(pickup)
    shown = c.get(f"{base}/{pickup.pk}/").content.decode()
    assert f"The courier comes on {slot['date']} between 10:00 and 16:00." in shown
    assert pickup.carrier_pickup_id in shown
    theirs = Client()
    theirs.force_login(other_admin)
    other = f"/app/{other_tenant.slug}/fulfillment/pickups"
    assert theirs.get(f"{other}/{pickup.pk}/").status_code == 404
    assert theirs.post(f"{other}/{pickup.pk}/order/", {"slot": "0"}).status_code == 404
    assert theirs.get(f"{other}/new/?account={account.pk}").status_code == 404
