"""Orders for tests: Allegro's checkout forms, orders imported from them, the tenant's statuses.

``order_of`` also builds the object of OBJECT_BUILDERS["order_id"] (tests/factories.py) for the
tenant-isolation test.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

from django_scopes import scope

from channels.models import SalesChannel
from channels.services.api import call
from core.models import Tenant
from orders.ingest import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms
from orders.models import Order, OrderStatus
from tests.sandbox_support import SandboxControl
from tests.support.channels import channel_of

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


def form_bought_at(moment, **overrides: Any) -> dict[str, Any]:
    """A checkout form bought at `moment` (an aware datetime)."""
    form = checkout_form(**overrides)
    form["lineItems"][0]["boughtAt"] = moment.isoformat().replace("+00:00", "Z")
    return form


def order_of(tenant: Tenant) -> Order:
    """An order of `tenant`, imported from a checkout form like any other."""
    result = upsert_order_from_checkout_form(
        channel_of(tenant, "OR", "Allegro (zamówienia)"), checkout_form()
    )
    assert result.ok, result.error
    with scope(tenant=tenant):
        return Order.objects.get(pk=result.order_id)


def import_orders(channel: SalesChannel, sandbox: SandboxControl, count: int, **kw) -> list[Order]:
    """Create ``count`` paid orders of the channel's seller in the sandbox and import them with
    the ingest service (the forms read from the sandbox's /order/checkout-forms list, 100 a
    page)."""
    ids = set(
        sandbox.create_orders(channel.allegro_login, count, status="READY_FOR_PROCESSING", **kw)
    )
    forms: list[dict] = []
    offset = 0
    with scope(tenant=channel.tenant):
        while True:
            page = call(
                channel, "GET", "/order/checkout-forms", params={"limit": 100, "offset": offset}
            ).data
            batch = page.get("checkoutForms") or []
            forms.extend(f for f in batch if f["id"] in ids)
            offset += len(batch)
            if not batch or offset >= page.get("totalCount", 0):
                break
        for start in range(0, len(forms), 100):
            result = upsert_orders_from_checkout_forms(channel, forms[start : start + 100])
            assert all(r.ok for r in result.results), [r.error for r in result.results]
        orders = list(
            Order.objects.filter(channel=channel, external_id__in=ids).select_related("status")
        )
    assert len(orders) == count
    return sorted(orders, key=lambda o: o.pk)


def status_of(tenant: Tenant, code: str) -> OrderStatus:
    """The tenant's status with this system code ("new", "in_progress", "sent"…)."""
    with scope(tenant=tenant):
        return OrderStatus.objects.get(tenant=tenant, system_code=code)
