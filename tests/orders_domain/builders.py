"""Objects for the tenant-isolation test (tests/factories.OBJECT_BUILDERS) and for these tests.

OBJECT_BUILDERS["order_id"] builds its object with order_of.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from django_scopes import scope

from core.models import Tenant

_LOCAL_EXAMPLE = Path(__file__).with_name("checkout_form_200.json")


def example_form() -> dict[str, Any]:
    """Allegro's checkout-form example (a copy kept next to the tests)."""
    return json.loads(_LOCAL_EXAMPLE.read_text(encoding="utf-8"))


def checkout_form(**overrides: Any) -> dict[str, Any]:
    """A fresh checkout form: the example with new form/line ids, status READY_FOR_PROCESSING,
    fulfillment NEW; top-level keys overridden as given."""
    form = copy.deepcopy(example_form())
    form["id"] = str(uuid.uuid4())
    form["lineItems"][0]["id"] = str(uuid.uuid4())
    form["fulfillment"]["status"] = "NEW"
    form.update(overrides)
    return form


def channel_of(tenant: Tenant, alias: str = "AL", name: str = "Allegro główne"):
    from channels.models import ConnectionState, SalesChannel

    with scope(tenant=tenant):
        channel, _created = SalesChannel.objects.get_or_create(
            tenant=tenant,
            alias=alias,
            defaults={
                "name": name,
                "allegro_login": f"sklep_{tenant.slug}",
                "allegro_environment": "local",
                "connection_state": ConnectionState.CONNECTED,
            },
        )
    return channel


def order_of(tenant: Tenant):
    """An order of `tenant`, imported from a checkout form like any other."""
    from orders.ingest import upsert_order_from_checkout_form
    from orders.models import Order

    result = upsert_order_from_checkout_form(
        channel_of(tenant, "OR", "Allegro (zamówienia)"), checkout_form()
    )
    assert result.ok, result.error
    with scope(tenant=tenant):
        return Order.objects.get(pk=result.order_id)


def form_bought_at(moment, **overrides: Any) -> dict[str, Any]:
    """A checkout form bought at `moment` (an aware datetime)."""
    form = checkout_form(**overrides)
    form["lineItems"][0]["boughtAt"] = moment.isoformat().replace("+00:00", "Z")
    return form
