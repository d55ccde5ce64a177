"""Helpers of the sync tests: the sandbox seller and the channel form, run services in the
tenant's scope, read orders and sync states, and compare an order with the sandbox's checkout
form field by field."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from orders.models import Order, OrderLine
from sync.backfill import run_backfill
from sync.models import ChannelSyncState
from sync.poll import poll_channel
from sync.reconcile import reconcile_channel

CLIENT_ID = "apilo-sync-test"
SELLER = "sync-seller"
SELLER_PASSWORD = "sync-password-1"
SELLER_ID = "60000001"
# The channel form of these tests (tests.support.channels.make_channel).
CHANNEL = {"name": "Allegro sync", "alias": "AS", "allegro_login": SELLER, "backfill_days": 0}


def state_of(channel: SalesChannel) -> ChannelSyncState:
    with scopes_disabled():
        return ChannelSyncState.objects.get(channel_id=channel.pk)


def state_or_none(channel: SalesChannel) -> ChannelSyncState | None:
    with scopes_disabled():
        return ChannelSyncState.objects.filter(channel_id=channel.pk).first()


def poll(channel: SalesChannel):
    with scope(tenant=channel.tenant):
        return poll_channel(channel.pk)


def reconcile(channel: SalesChannel, hours: int = 48):
    with scope(tenant=channel.tenant):
        return reconcile_channel(channel.pk, hours)


def backfill_to_the_end(
    channel: SalesChannel, run: int, *, max_steps: int = 500, must_finish: bool = True
) -> list:
    steps = []
    with scope(tenant=channel.tenant):
        for _ in range(max_steps):
            step = run_backfill(channel.pk, run)
            steps.append(step)
            if step.status not in ("continue", "retry"):
                return steps
    if not must_finish:
        return steps
    raise AssertionError("backfill did not finish")


def orders_by_external_id(channel: SalesChannel) -> dict[str, Order]:
    with scopes_disabled():
        orders = list(Order.objects.filter(channel_id=channel.pk).select_related("status"))
    by_id = {o.external_id: o for o in orders}
    assert len(by_id) == len(orders), "an order is in the database twice"
    return by_id


def external_ids(channel: SalesChannel) -> list[str]:
    with scopes_disabled():
        return sorted(
            Order.objects.filter(channel_id=channel.pk).values_list("external_id", flat=True)
        )


def _money(block: Any) -> Decimal | None:
    if not isinstance(block, dict) or block.get("amount") is None:
        return None
    return Decimal(str(block["amount"])).quantize(Decimal("0.01"))


def mismatches(order: Order, form: dict) -> list[str]:
    """Differences between an order in the database and the sandbox's checkout form (empty when
    equal): status, revision, buyer, delivery and invoice addresses, payment, totals, lines."""
    out: list[str] = []

    def check(name: str, ours: Any, theirs: Any) -> None:
        if ours != theirs:
            out.append(f"{order.external_id} {name}: {ours!r} != {theirs!r}")

    buyer = form.get("buyer") or {}
    delivery = form.get("delivery") or {}
    address = delivery.get("address") or {}
    invoice = form.get("invoice") or {}
    payment = form.get("payment") or {}
    check("allegro_status", order.allegro_status, form["status"])
    check("fulfillment", order.fulfillment_status, (form.get("fulfillment") or {}).get("status"))
    check("revision", order.revision, form.get("revision", ""))
    check("buyer_login", order.buyer_login, buyer.get("login", ""))
    check("buyer_email", order.buyer_email, buyer.get("email", ""))
    check("buyer_first_name", order.buyer_first_name, buyer.get("firstName", ""))
    check("buyer_last_name", order.buyer_last_name, buyer.get("lastName", ""))
    check("buyer_phone", order.buyer_phone, buyer.get("phoneNumber", ""))
    ours_delivery = order.delivery_address or {}
    for ours_key, key in (
        ("first_name", "firstName"),
        ("last_name", "lastName"),
        ("street", "street"),
        ("city", "city"),
        ("zip_code", "zipCode"),
        ("country_code", "countryCode"),
        ("phone_number", "phoneNumber"),
    ):
        check(f"delivery.{key}", ours_delivery.get(ours_key, ""), address.get(key, ""))
    check("delivery_method", order.delivery_method_id, (delivery.get("method") or {}).get("id", ""))
    check(
        "pickup_point",
        order.pickup_point_id,
        (delivery.get("pickupPoint") or {}).get("id", ""),
    )
    check("delivery_cost", order.delivery_cost, _money(delivery.get("cost")))
    check("invoice_required", order.invoice_required, bool(invoice.get("required")))
    invoice_address = invoice.get("address") or {}
    ours_invoice = order.invoice_address or {}
    for ours_key, key in (("street", "street"), ("city", "city"), ("zip_code", "zipCode")):
        check(f"invoice.{key}", ours_invoice.get(ours_key, ""), invoice_address.get(key, ""))
    check("payment_type", order.payment_type, payment.get("type", ""))
    check("paid_amount", order.paid_amount, _money(payment.get("paidAmount")))
    check("total", order.total_to_pay, _money((form.get("summary") or {}).get("totalToPay")))
    with scopes_disabled():
        lines = list(OrderLine.objects.filter(order_id=order.pk).order_by("position"))
    theirs = [
        (li["id"], li["offer"]["id"], li["quantity"], _money(li["price"]))
        for li in form.get("lineItems") or []
    ]
    ours = [(li.external_id, li.offer_id, li.quantity, li.price) for li in lines]
    check("lines", ours, theirs)
    return out
