"""What the stock tests share (fixtures: import ``*_fixture`` into a test module): products
and offers of a tenant, order lines linked to them
(the products' linking does that on import once merged; these tests link lines themselves),
the sandbox world of two connected channels, and reads of the stock outbox as stored."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django_scopes import scope, scopes_disabled

from catalog.models import (
    ChannelCatalogState,
    Offer,
    OfferStockPush,
    OrderLineLink,
    Product,
    ProductStockChange,
)
from catalog.services import stock_push
from channels.models import SalesChannel
from core.models import Tenant
from orders.models import Order
from tests.sandbox_support import SandboxControl
from tests.support.channels import make_channel
from tests.support.connect import REDIRECT_URI, SandboxApp, connect, register_sandbox_app

CLIENT_ID = "apilo-stock-test"
SELLERS = (
    ("stock-seller-a", "stock-password-a", "71000001"),
    ("stock-seller-b", "stock-password-b", "71000002"),
)
CHANNELS = (
    {"name": "Allegro A", "alias": "SA", "allegro_login": SELLERS[0][0], "backfill_days": 0},
    {"name": "Allegro B", "alias": "SB", "allegro_login": SELLERS[1][0], "backfill_days": 0},
)
# Worker settings: short leases and looks, so a killed worker's rows come back quickly.
WORKER_ENV = {
    "STOCK_PUSH_SWEEP_SECONDS": "1",
    "STOCK_PUSH_LEASE_SECONDS": "3",
    "STOCK_PUSH_CHECK_SECONDS": "0.3",
    "STOCK_PUSH_RETRY_BASE_SECONDS": "0.3",
    "STOCK_PUSH_RETRY_MAX_SECONDS": "2",
    "ALLEGRO_READ_TIMEOUT": "1.5",
    "SYNC_POLL_TICK_SECONDS": "3600",
}


def product_of(tenant: Tenant, name: str = "Kubek", sku: str = "", stock: int = 0) -> Product:
    with scope(tenant=tenant):
        return Product.objects.create(tenant=tenant, name=name, sku=sku, stock=stock)


def offer_of(
    channel: SalesChannel, external_id: str, product: Product | None = None, **kw: Any
) -> Offer:
    with scope(tenant=channel.tenant):
        return Offer.objects.create(
            tenant=channel.tenant,
            channel=channel,
            external_id=external_id,
            name=kw.pop("name", f"Oferta {external_id}"),
            status=kw.pop("status", "ACTIVE"),
            product=product,
            link="manual" if product else "",
            **kw,
        )


def send_stock(channel: SalesChannel, on: bool = True) -> None:
    """The channel's "send stock to offers" switched without queueing (tests set it up)."""
    with scope(tenant=channel.tenant):
        ChannelCatalogState.objects.update_or_create(
            tenant=channel.tenant, channel=channel, defaults={"stock_push_enabled": on}
        )


def link_lines(order: Order) -> list[OrderLineLink]:
    """OrderLineLink rows for the order's lines (made, or set again): the offer by the line's
    offer id on the order's channel, the product by the offer's."""
    links = []
    with scope(tenant=order.tenant):
        for line in order.lines.all():
            offer = Offer.objects.filter(channel=order.channel, external_id=line.offer_id).first()
            link, _created = OrderLineLink.objects.update_or_create(
                tenant=order.tenant,
                line=line,
                defaults={
                    "order": order,
                    "offer": offer,
                    "product": offer.product if offer else None,
                },
            )
            links.append(link)
    return links


def stock_of(product: Product) -> int:
    with scopes_disabled():
        return Product.objects.get(pk=product.pk).stock


def changes_of(product: Product) -> list[tuple[str, int, int, str]]:
    """(reason, delta, stock after, dedupe key) of the product's changes, oldest first."""
    with scopes_disabled():
        return list(
            ProductStockChange.objects.filter(product_id=product.pk)
            .order_by("id")
            .values_list("reason", "delta", "stock_after", "dedupe_key")
        )


def pushes_of(offer: Offer) -> list[OfferStockPush]:
    with scopes_disabled():
        return list(OfferStockPush.objects.filter(offer_id=offer.pk).order_by("id"))


def run_sender(offer: Offer) -> stock_push.OfferResult:
    """The sender of one offer, in this process (as the task runs it)."""
    with scope(tenant=offer.tenant_id):
        return stock_push.process_offer(offer.tenant_id, offer.pk)


@dataclass
class StockEnv(SandboxApp):
    sellers: tuple[tuple[str, str, str], ...] = SELLERS

    def offers(self, seller: int) -> list[dict[str, Any]]:
        return self.sandbox.offers_of(self.sellers[seller][0])

    def active_offer_ids(self, seller: int) -> list[str]:
        return [o["id"] for o in self.offers(seller) if o["status"] == "ACTIVE"]

    def available(self, offer_id: str) -> int:
        [offer] = [
            o for s in range(len(self.sellers)) for o in self.offers(s) if o["id"] == offer_id
        ]
        return int(offer["available"])

    def commands(self) -> dict[str, dict[str, Any]]:
        """The sandbox's quantity commands by id (resolved: applied when their time came)."""
        data = self.sandbox.call("GET", "/quantity-commands")
        return {c["id"]: c for c in data["commands"]}

    def quantity_seconds(self, seconds: float) -> None:
        self.sandbox.call("PUT", "/quantity", {"command_seconds": seconds})


def configure(sandbox: SandboxControl, settings, **app_options: Any) -> StockEnv:
    app = register_sandbox_app(
        settings, sandbox, client_id=CLIENT_ID, redirect_uri=REDIRECT_URI, **app_options
    )
    for login, password, seller_id in SELLERS:
        sandbox.create_seller(login, password, id=seller_id, offers=6)
    settings.STOCK_PUSH_CHECK_SECONDS = 0.2
    settings.STOCK_PUSH_RETRY_BASE_SECONDS = 0.2
    settings.STOCK_PUSH_RETRY_MAX_SECONDS = 1.0
    settings.ALLEGRO_READ_TIMEOUT = 2.0
    env = StockEnv(app.sandbox, app.client_id, app.client_secret, app.redirect_uri)
    env.quantity_seconds(0.2)
    return env


@pytest.fixture(name="stock_env")
def stock_env_fixture(allegro_sandbox: SandboxControl, settings) -> StockEnv:
    return configure(allegro_sandbox, settings)


@pytest.fixture(name="stock_channels")
def stock_channels_fixture(tenant, admin_user, stock_env) -> tuple[SalesChannel, SalesChannel]:
    """Two channels of tenant "alfa", each connected to its sandbox seller, sending stock."""
    channels = tuple(
        connect(make_channel(tenant, form), admin_user, seller[1])
        for form, seller in zip(CHANNELS, SELLERS, strict=True)
    )
    for channel in channels:
        send_stock(channel)
    return channels  # type: ignore[return-value]


def stock_page_product(tenant: Tenant, channel: SalesChannel, actor: Any) -> Product:
    """A product whose stock page shows everything: changes of every reason, and pushes to an
    offer in every state with each waiting reason (tests/test_polish_pages.py walks it)."""
    from catalog.models import StockPushState, StockReason
    from catalog.services.stock import change_stock

    product = product_of(tenant, "Kubek ceramiczny", sku="KUB-PL", stock=0)
    offer = offer_of(channel, "88001", product, stock_available=4)
    send_stock(channel)
    with scope(tenant=tenant):
        change_stock(product, new_stock=10, reason=StockReason.IMPORT)
        change_stock(product, delta=-2, reason=StockReason.MANUAL, actor=actor, note="stłuczka")
        change_stock(product, delta=-1, reason=StockReason.SOLD, dedupe_key="sold:pl:1")
        change_stock(product, delta=1, reason=StockReason.RESTORED, dedupe_key="restored:pl:1")
        OfferStockPush.objects.filter(offer=offer).update(
            state=StockPushState.FAILED, error_code="refused", error_detail="Oferta zakończona."
        )
        for state, code in (
            (StockPushState.DONE, ""),
            (StockPushState.SUPERSEDED, ""),
            (StockPushState.SENT, "transient"),
            (StockPushState.SENT, "not_connected"),
            (StockPushState.PENDING, "scope_missing"),
        ):
            OfferStockPush.objects.create(
                tenant=tenant,
                offer=offer,
                channel=channel,
                quantity=8,
                state=state,
                error_code=code,
            )
    return product
