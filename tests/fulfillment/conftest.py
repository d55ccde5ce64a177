"""Fixtures of the fulfillment tests: the `local` Allegro environment pointing at the sandbox, a
seller with orders, a channel connected through the real OAuth flow, orders imported from the
sandbox's checkout forms with the ingest service, and Celery processes that reach the sandbox.
(Same idea as tests/channels/conftest.py and tests/sync/conftest.py, kept separate on purpose.)"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from channels.services.api import call
from channels.services.channels import create_channel
from core.models import Tenant
from fulfillment.models import FulfillmentPush, PushState
from orders.ingest import upsert_orders_from_checkout_forms
from orders.models import Order, OrderStatus
from tests.allegro_support import SandboxApp, register_sandbox_app
from tests.allegro_support import connect as connect_channel
from tests.celery_support import (
    wait_until,  # noqa: F401 - the tests import it from here
)
from tests.sandbox_support import SandboxControl

CLIENT_ID = "apilo-push-test"
REDIRECT_URI = "http://testserver/channels/allegro/callback/"
SELLER = "push-seller"
SELLER_PASSWORD = "push-password-1"
SELLER_ID = "70000001"


@dataclass
class PushEnv(SandboxApp):
    seller: str = SELLER

    def worker_env(self, **extra: Any) -> dict[str, str]:
        # The sync engine's poll tick stays out of these tests' way.
        return super().worker_env(SYNC_POLL_TICK_SECONDS="3600", **extra)


@pytest.fixture
def push_env(allegro_sandbox: SandboxControl, settings) -> PushEnv:
    return configure(allegro_sandbox, settings)


def configure(sandbox: SandboxControl, settings, redirect_uri: str = REDIRECT_URI) -> PushEnv:
    app = register_sandbox_app(settings, sandbox, client_id=CLIENT_ID, redirect_uri=redirect_uri)
    sandbox.create_seller(SELLER, SELLER_PASSWORD, id=SELLER_ID, offers=10)
    # Tests never wait for long backoffs.
    settings.FULFILLMENT_RETRY_BASE_SECONDS = 0.2
    settings.FULFILLMENT_RETRY_MAX_SECONDS = 2.0
    settings.ALLEGRO_READ_TIMEOUT = 2.0
    settings.ALLEGRO_RATE_LIMIT_BLOCK_SECONDS = 2.0
    return PushEnv(app.sandbox, app.client_id, app.client_secret, app.redirect_uri)


def make_channel(tenant: Tenant, **overrides: Any) -> SalesChannel:
    data = {
        "name": "Allegro push",
        "alias": "AP",
        "allegro_login": SELLER,
        "allegro_environment": "local",
        "backfill_days": 0,
        "pass_shipment_info": True,
        "default_shipment_comment": "Paczka do {order.number}: {shipment.waybill}",
    }
    data.update(overrides)
    with scope(tenant=tenant):
        return create_channel(tenant=tenant, data=data)


def connect(channel: SalesChannel, admin_user, login: str = SELLER) -> SalesChannel:
    """Authorize the channel through the real flow: Authorize → sandbox login → callback."""
    return connect_channel(channel, admin_user, login, SELLER_PASSWORD)


@pytest.fixture
def channel(tenant, admin_user, push_env) -> SalesChannel:
    """A channel of tenant "alfa" connected to the sandbox seller, passing shipment info."""
    return connect(make_channel(tenant), admin_user)


def import_orders(channel: SalesChannel, sandbox: SandboxControl, count: int, **kw) -> list[Order]:
    """Create ``count`` paid orders in the sandbox and import them with the ingest service (the
    forms read from the sandbox's /order/checkout-forms list, 100 a page)."""
    ids = set(sandbox.create_orders(SELLER, count, status="READY_FOR_PROCESSING", **kw))
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


def status(tenant: Tenant, code: str) -> OrderStatus:
    with scope(tenant=tenant):
        return OrderStatus.objects.get(tenant=tenant, system_code=code)


def pushes_of(order: Order) -> list[FulfillmentPush]:
    with scopes_disabled():
        return list(FulfillmentPush.objects.filter(order_id=order.pk).order_by("id"))


def open_pushes() -> int:
    with scopes_disabled():
        return FulfillmentPush.objects.filter(
            state__in=[PushState.PENDING, PushState.FAILED]
        ).count()
