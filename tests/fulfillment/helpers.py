"""What the fulfillment tests share: the sandbox seller and client app, the channel form, the
world set up for a push (also used by bench/), and the pushes of an order as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django_scopes import scopes_disabled

from fulfillment.models import FulfillmentPush
from orders.models import Order
from tests.sandbox_support import SandboxControl
from tests.support.connect import REDIRECT_URI, SandboxApp, register_sandbox_app

CLIENT_ID = "apilo-push-test"
SELLER = "push-seller"
SELLER_PASSWORD = "push-password-1"
SELLER_ID = "70000001"
# The channel form of these tests (tests.support.channels.make_channel).
CHANNEL = {
    "name": "Allegro push",
    "alias": "AP",
    "allegro_login": SELLER,
    "backfill_days": 0,
    "pass_shipment_info": True,
    "default_shipment_comment": "Paczka do {order.number}: {shipment.waybill}",
}


@dataclass
class PushEnv(SandboxApp):
    seller: str = SELLER

    def worker_env(self, **extra: Any) -> dict[str, str]:
        # The sync engine's poll tick stays out of these tests' way.
        return super().worker_env(SYNC_POLL_TICK_SECONDS="3600", **extra)


def configure(sandbox: SandboxControl, settings, redirect_uri: str = REDIRECT_URI) -> PushEnv:
    """The client app and the seller in the sandbox, the `local` environment pointed at it."""
    app = register_sandbox_app(settings, sandbox, client_id=CLIENT_ID, redirect_uri=redirect_uri)
    sandbox.create_seller(SELLER, SELLER_PASSWORD, id=SELLER_ID, offers=10)
    # Tests never wait for long backoffs.
    settings.FULFILLMENT_RETRY_BASE_SECONDS = 0.2
    settings.FULFILLMENT_RETRY_MAX_SECONDS = 2.0
    settings.ALLEGRO_READ_TIMEOUT = 2.0
    settings.ALLEGRO_RATE_LIMIT_BLOCK_SECONDS = 2.0
    return PushEnv(app.sandbox, app.client_id, app.client_secret, app.redirect_uri)


def pushes_of(order: Order) -> list[FulfillmentPush]:
    with scopes_disabled():
        return list(FulfillmentPush.objects.filter(order_id=order.pk).order_by("id"))
