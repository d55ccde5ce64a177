"""A label made through Wysyłam z Allegro (against allegro_sandbox over HTTP) is one
label.created event with its waybills and its shipment (not a shipment.created: that is for
shipments added by hand)."""

from __future__ import annotations

import json

import pytest
from django_scopes import scope

from fulfillment.services.labels.jobs import create_label
from tests.api.webhooks.helpers import deliveries_of, subscribe
from tests.labels.conftest import account, channel, push_env  # noqa: F401 (fixtures)
from tests.labels.helpers import proposal_for, run
from tests.support.orders import import_orders

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_label_is_one_label_created_event(tenant, channel, account, push_env, admin_user):  # noqa: F811
    labels, _ = subscribe(tenant, "http://127.0.0.1:9/hooks", ["label.created", "shipment.created"])
    (order,) = import_orders(channel, push_env.sandbox, 1, delivery="courier", seed=3)
    proposal_for(order)
    with scope(tenant=tenant):
        job = run(create_label(order, account, parcels=None, actor=admin_user))
    (waybill,) = job.waybills
    kinds = [d.event_type for d in deliveries_of(labels)]
    assert kinds == ["label.created"]
    [label] = [d for d in deliveries_of(labels) if d.event_type == "label.created"]
    data = json.loads(label.body)["data"]
    assert data["label"] == {"id": job.pk, "waybills": [waybill]}
    assert data["shipment"]["waybill"] == waybill
    assert data["order"]["id"] == order.pk
