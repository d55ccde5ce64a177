"""Every change of a product's stock, and the outbox rows that carry it to the linked offers.

Owns ``Product.stock``, ``ProductStockChange`` and the writing of ``OfferStockPush`` rows (their
sending is ``catalog.services.stock_push``), and the channel's ``stock_push_enabled``.

- ``change_stock``: the one writer of a product's stock (by hand, sold, restored, import).
- ``orders_sold`` / ``orders_cancelled``: what an order does to stock, once per order and
  product (the dedupe keys ``sold:<order>:<product>`` and ``restored:<order>:<product>``).
- ``set_stock_push``: a channel's "send stock to offers" switch; turning it on queues the
  current stock of every linked offer once.

A change that came from an offer event (Allegro's own quantity, perhaps the echo of our own
command) never reaches this module: offer events update ``Offer.stock_available`` only.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import (
    ChannelCatalogState,
    Offer,
    OfferStockPush,
    OrderLineLink,
    Product,
    ProductStockChange,
    StockPushState,
    StockReason,
)
from catalog.signals import stock_changed
from channels.models import SalesChannel
from core.errors import UserError
from core.tasks import dispatch_after_commit
from orders.models import FulfillmentStatus, Order, OrderStatus, StatusGroup, SystemStatus

PUSH_TASK = "catalog.tasks.push_offer_stock"
# Allegro's fulfillment statuses after which the goods have left: a cancellation then gives
# nothing back (the parcel comes back as a return, counted by hand).
_LEFT = (FulfillmentStatus.SENT, FulfillmentStatus.PICKED_UP, FulfillmentStatus.RETURNED)
MAX_STOCK = 10_000_000


class StockError(UserError):
    """A change of stock the seller can correct."""


def _pushed_quantity(stock: int) -> int:
    return max(0, stock)


def change_stock(
    product: Product,
    *,
    delta: int | None = None,
    new_stock: int | None = None,
    reason: str,
    actor: Any = None,
    order: Order | None = None,
    offer: Offer | None = None,
    dedupe_key: str = "",
    note: str = "",
) -> ProductStockChange | None:
    """Change the product's stock by ``delta`` or to ``new_stock`` (exactly one of them), and
    say why. Returns the change, or None when ``dedupe_key`` was applied before (nothing
    changes). Locks the product row; sends ``stock_changed``; writes or updates the pending
    OfferStockPush of every linked offer on a channel that sends stock, dispatched on commit.
    ``product`` gets the new stock."""
    if (delta is None) == (new_stock is None):
        raise ValueError("give exactly one of delta and new_stock")
    if reason not in StockReason.values:
        raise ValueError(f"unknown stock reason {reason!r}")
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(pk=product.pk, tenant_id=product.tenant_id)
        after = locked.stock + delta if delta is not None else int(new_stock)  # type: ignore[arg-type]
        if abs(after) > MAX_STOCK:
            raise StockError(
                _("Stock cannot exceed %(max)s.") % {"max": MAX_STOCK},
                code="stock_out_of_range",
                field="delta" if delta is not None else "new_stock",
            )
        change = ProductStockChange(
            tenant_id=locked.tenant_id,
            product=locked,
            reason=reason,
            delta=after - locked.stock,
            stock_after=after,
            order=order,
            offer=offer,
            actor=actor,
            note=note[:200],
            dedupe_key=dedupe_key,
        )
        if dedupe_key:
            try:
                with transaction.atomic():
                    change.save()
            except IntegrityError:
                if ProductStockChange.objects.filter(
                    tenant_id=locked.tenant_id, dedupe_key=dedupe_key
                ).exists():
                    return None
                raise
        else:
            change.save()
        now = timezone.now()
        Product.objects.filter(pk=locked.pk).update(stock=after, updated_at=now)
        locked.stock = after
        product.stock, product.updated_at = after, now
        stock_changed.send(sender=Product, product=locked, change=change)
        _queue_pushes(locked, change)
    return change


def _push_channels(tenant_id: int) -> set[int]:
    return set(
        ChannelCatalogState.objects.filter(tenant_id=tenant_id, stock_push_enabled=True)
        .order_by()
        .values_list("channel_id", flat=True)
    )


def _queue_pushes(
    product: Product, change: ProductStockChange | None, only_channel: int | None = None
) -> list[int]:
    """The pending push of every offer of the product on a channel that sends stock (or only
    on ``only_channel``): the offer's waiting row takes the new quantity (a newer quantity
    replaces an unsent one), or a new row is written. Caller holds the product's row lock.
    Returns the offers queued."""
    channels = _push_channels(product.tenant_id)
    if only_channel is not None:
        channels &= {only_channel}
    if not channels:
        return []
    offers = list(
        Offer.objects.filter(
            tenant_id=product.tenant_id,
            product_id=product.pk,
            channel_id__in=channels,
            removed_at__isnull=True,
        )
        .order_by("pk")
        .values_list("pk", "channel_id")
    )
    quantity = _pushed_quantity(product.stock)
    now = timezone.now()
    for offer_id, channel_id in offers:
        updated = OfferStockPush.objects.filter(
            tenant_id=product.tenant_id, offer_id=offer_id, state=StockPushState.PENDING
        ).update(quantity=quantity, stock_change=change)
        if not updated:
            OfferStockPush.objects.create(
                tenant_id=product.tenant_id,
                offer_id=offer_id,
                channel_id=channel_id,
                quantity=quantity,
                stock_change=change,
                next_attempt_at=now,
            )
        dispatch_after_commit(PUSH_TASK, product.tenant_id, offer_id)
    return [offer_id for offer_id, _channel in offers]


# --------------------------------------------------------------------------- orders
def _sold_quantities(tenant_id: int, order_ids: list[int]) -> dict[tuple[int, int], int]:
    """(order, product) -> how many of the product the order's linked lines sold."""
    rows = (
        OrderLineLink.objects.filter(
            tenant_id=tenant_id, order_id__in=order_ids, product_id__isnull=False
        )
        .order_by()
        .values("order_id", "product_id")
        .annotate(quantity=Sum("line__quantity"))
    )
    return {(r["order_id"], r["product_id"]): int(r["quantity"] or 0) for r in rows}


def _products(tenant_id: int, keys: Iterable[tuple[int, int]]) -> dict[int, Product]:
    ids = sorted({product_id for _order, product_id in keys})
    return {p.pk: p for p in Product.objects.filter(tenant_id=tenant_id, pk__in=ids)}


def orders_sold(orders: list[Order]) -> int:
    """Take the goods of these orders (paid: READY_FOR_PROCESSING) off their products' stock,
    once per order and product however often the order is imported again. In the caller's
    transaction. Returns how many changes were written."""
    if not orders:
        return 0
    tenant_id = orders[0].tenant_id
    by_id = {o.pk: o for o in orders}
    sold = _sold_quantities(tenant_id, list(by_id))
    products = _products(tenant_id, sold)
    written = 0
    # Products in pk order: two imports lock the same products in the same order.
    for (order_id, product_id), quantity in sorted(sold.items(), key=lambda kv: kv[0][::-1]):
        if quantity <= 0 or product_id not in products:
            continue
        change = change_stock(
            products[product_id],
            delta=-quantity,
            reason=StockReason.SOLD,
            order=by_id[order_id],
            dedupe_key=f"sold:{order_id}:{product_id}",
        )
        written += change is not None
    return written


def _shipped(order: Order, previous: OrderStatus | None) -> bool:
    if order.fulfillment_status in _LEFT:
        return True
    return (
        previous is not None
        and previous.group == StatusGroup.COMPLETED
        and previous.system_code not in (SystemStatus.CANCELLED, SystemStatus.RETURNED)
    )


def orders_cancelled(changes: Iterable[tuple[Order, OrderStatus | None]]) -> int:
    """Give back what cancelled orders took, once, when they were sold and not yet shipped:
    ``changes`` are (order, previous status) of orders that entered a status; those that
    entered a cancellation count. In the caller's transaction. Returns the changes written."""
    cancelled = [
        order
        for order, previous in changes
        if order.status.system_code == SystemStatus.CANCELLED and not _shipped(order, previous)
    ]
    if not cancelled:
        return 0
    tenant_id = cancelled[0].tenant_id
    by_id = {o.pk: o for o in cancelled}
    sales = list(
        ProductStockChange.objects.filter(
            tenant_id=tenant_id, order_id__in=list(by_id), reason=StockReason.SOLD
        )
        .order_by("product_id", "order_id")
        .values_list("order_id", "product_id", "delta")
    )
    products = _products(tenant_id, [(o, p) for o, p, _d in sales])
    written = 0
    for order_id, product_id, delta in sales:
        if product_id not in products:
            continue
        change = change_stock(
            products[product_id],
            delta=-delta,
            reason=StockReason.RESTORED,
            order=by_id[order_id],
            dedupe_key=f"restored:{order_id}:{product_id}",
        )
        written += change is not None
    return written


# --------------------------------------------------------------------------- by hand
def change_stock_by_hand(
    product: Product,
    *,
    actor: Any,
    new_stock: int | None = None,
    delta: int | None = None,
    note: str = "",
) -> ProductStockChange:
    """A seller sets the stock or adds to it (a negative number takes away)."""
    if (delta is None) == (new_stock is None):
        raise StockError(
            _("Give either the new stock or the amount to add or take away."),
            code="stock_change_missing",
            field="new_stock",
        )
    if delta == 0:
        raise StockError(
            _("Adding nothing changes nothing."), code="stock_delta_zero", field="delta"
        )
    change = change_stock(
        product, delta=delta, new_stock=new_stock, reason=StockReason.MANUAL, actor=actor, note=note
    )
    assert change is not None  # no dedupe key
    return change


# --------------------------------------------------------------------------- the channel switch
def set_stock_push(channel: SalesChannel, enabled: bool) -> int:
    """Turn "send stock to offers" on or off for the channel. On: the current stock of every
    linked offer of the channel is queued once (returns how many offers). Off: waiting rows
    stay, unsent, until it is on again (the sender skips a channel that does not send)."""
    with transaction.atomic():
        state, _created = ChannelCatalogState.objects.select_for_update().get_or_create(
            tenant_id=channel.tenant_id, channel=channel
        )
        was = state.stock_push_enabled
        if was == enabled:
            return 0
        ChannelCatalogState.objects.filter(pk=state.pk).update(stock_push_enabled=enabled)
        if not enabled:
            return 0
        resume_channel(channel)
        product_ids = (
            Offer.objects.filter(
                tenant_id=channel.tenant_id,
                channel_id=channel.pk,
                product__isnull=False,
                removed_at__isnull=True,
            )
            .order_by()
            .values_list("product_id", flat=True)
            .distinct()
        )
        queued = 0
        # Locked in pk order like every stock change, so none slips between the read and the rows.
        for product in (
            Product.objects.select_for_update()
            .filter(tenant_id=channel.tenant_id, pk__in=list(product_ids))
            .order_by("pk")
        ):
            queued += len(_queue_pushes(product, None, only_channel=channel.pk))
        return queued


def resume_channel(channel: SalesChannel) -> int:
    """The channel can send again (stock push turned on, the account authorized again): its
    unfinished rows are looked at now rather than at their next planned look."""
    rows = OfferStockPush.objects.filter(
        tenant_id=channel.tenant_id,
        channel_id=channel.pk,
        state__in=[StockPushState.PENDING, StockPushState.SENT],
    )
    offers = sorted(set(rows.order_by().values_list("offer_id", flat=True)))
    rows.update(next_attempt_at=timezone.now())
    for offer_id in offers:
        dispatch_after_commit(PUSH_TASK, channel.tenant_id, offer_id)
    return len(offers)


def stock_push_enabled(channel: SalesChannel) -> bool:
    return ChannelCatalogState.objects.filter(
        tenant_id=channel.tenant_id, channel_id=channel.pk, stock_push_enabled=True
    ).exists()
