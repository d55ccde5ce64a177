"""Orders, their journal events and the buyer-side lifecycle (part of ``Store``)."""

from __future__ import annotations

import base64
import bisect
import gc
import json
import random
from typing import Any

from .. import data
from ..clock import iso
from .base import CARRIERS, EVENT_RETENTION, ORDER_RETENTION, Seller


class Order:
    __slots__ = (
        "_json",
        "bought_ts",
        "cf",
        "deleted",
        "fulfillment_changes",
        "fulfillment_history",
        "merged_into",
        "plan",
        "seller_id",
        "shipments",
        "updated_ts",
    )

    def __init__(self, cf: dict[str, Any], seller_id: str, bought_ts: float) -> None:
        self.cf = cf
        self.seller_id = seller_id
        self.bought_ts = bought_ts
        self.updated_ts = bought_ts
        self.fulfillment_changes = 0
        self.fulfillment_history: list[dict[str, Any]] = []
        self.shipments: list[dict[str, Any]] = []
        self.deleted = False
        self.merged_into: str | None = None
        self.plan: list[tuple[float, str]] = []
        self._json: bytes | None = None

    @property
    def id(self) -> str:
        return self.cf["id"]

    def touch(self) -> None:
        self._json = None

    def json_bytes(self) -> bytes:
        if self._json is None:
            self._json = json.dumps(self.cf, ensure_ascii=False, separators=(",", ":")).encode()
        return self._json

    def dump(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if k != "_json"}

    @classmethod
    def load(cls, d: dict[str, Any]) -> Order:
        o = cls(d["cf"], d["seller_id"], d["bought_ts"])
        for k, v in d.items():
            if k in ("plan",):
                v = [tuple(x) for x in v]
            setattr(o, k, v)
        return o


class Event:
    __slots__ = ("id", "occurred", "order_id", "payload", "seller_id", "type")

    def __init__(
        self, seller_id: str, type_: str, occurred: float, order_id: str, payload: dict[str, Any]
    ) -> None:
        self.id = 0
        self.seller_id = seller_id
        self.type = type_
        self.occurred = occurred
        self.order_id = order_id
        self.payload = payload

    def wire(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "order": self.payload,
            "type": self.type,
            "occurredAt": iso(self.occurred),
        }

    def dump(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__}


class SellerJournal:
    def __init__(self) -> None:
        self.ids: list[int] = []
        self.events: list[Event] = []
        self.pending: list[tuple[float, Event]] = []  # delayed: (insert_at, event)
        self.withheld: list[Event] = []  # dropped: inserted when released


class OrdersMixin:
    """The journal and the checkout forms."""

    def next_event_id(self) -> int:
        candidate = int(self.clock.now() * 1_000_000)
        self.last_event_id = max(self.last_event_id + 1, candidate)
        return self.last_event_id

    def event_payload(self, order: Order) -> dict[str, Any]:
        cf = order.cf
        b = cf["buyer"]
        return {
            "seller": {"id": order.seller_id},
            "buyer": {
                "id": b["id"],
                "email": b["email"],
                "login": b["login"],
                "guest": b["guest"],
                "preferences": b.get("preferences", {"language": "pl-PL"}),
            },
            "lineItems": [
                {
                    k: li[k]
                    for k in ("id", "offer", "quantity", "originalPrice", "price", "boughtAt")
                }
                for li in cf["lineItems"]
            ],
            "checkoutForm": {"id": cf["id"], "revision": cf["revision"]},
            "marketplace": cf["marketplace"],
        }

    def emit(self, order: Order, batch: list[tuple[str, float]]) -> None:
        """Record journal events for ``order``; event faults of its seller apply here."""
        seller_id = order.seller_id
        faults, rng = self._event_faults(seller_id)
        journal = self.journals[seller_id]
        payload = self.event_payload(order)
        events = [Event(seller_id, t, occ, order.id, payload) for t, occ in batch]
        if len(events) > 1 and self._hit(rng, faults.get("out_of_order")):
            events.reverse()
        delay = faults.get("delay_events_seconds") or 0
        now = self.clock.now()
        for ev in events:
            copies = [ev]
            if self._hit(rng, faults.get("duplicate_events")):
                copies.append(Event(seller_id, ev.type, ev.occurred, ev.order_id, payload))
            for c in copies:
                if self._hit(rng, faults.get("drop_events")):
                    journal.withheld.append(c)
                elif delay > 0:
                    journal.pending.append((now + delay, c))
                else:
                    self._insert(journal, c)

    def _insert(self, journal: SellerJournal, ev: Event) -> None:
        ev.id = self.next_event_id()
        journal.ids.append(ev.id)
        journal.events.append(ev)
        self.dirty = True

    def flush_pending(self, seller_id: str) -> None:
        journal = self.journals.get(seller_id)
        if not journal or not journal.pending:
            return
        now = self.clock.now()
        due = [p for p in journal.pending if p[0] <= now]
        if due:
            journal.pending = [p for p in journal.pending if p[0] > now]
            for _, ev in sorted(due, key=lambda p: p[0]):
                self._insert(journal, ev)

    def release_events(self, seller_id: str) -> int:
        journal = self.journals[seller_id]
        n = len(journal.withheld) + len(journal.pending)
        items = journal.withheld + [ev for _, ev in sorted(journal.pending, key=lambda p: p[0])]
        journal.withheld, journal.pending = [], []
        for ev in items:
            self._insert(journal, ev)
        return n

    def read_events(
        self, seller_id: str, after: int, types: set[str] | None, limit: int
    ) -> list[Event]:
        self.flush_pending(seller_id)
        journal = self.journals.get(seller_id)
        if not journal:
            return []
        cutoff = int((self.clock.now() - EVENT_RETENTION) * 1_000_000)
        start = bisect.bisect_right(journal.ids, max(after, cutoff - 1))
        out: list[Event] = []
        for ev in journal.events[start:]:
            if types is None or ev.type in types:
                out.append(ev)
                if len(out) >= limit:
                    break
        return out

    def latest_event(self, seller_id: str) -> Event | None:
        self.flush_pending(seller_id)
        journal = self.journals.get(seller_id)
        if not journal or not journal.events:
            return None
        ev = journal.events[-1]
        if ev.id < int((self.clock.now() - EVENT_RETENTION) * 1_000_000):
            return None
        return ev

    # ------------------------------------------------------------------ orders
    def create_orders(
        self, seller: Seller, count: int, status: str = "READY_FOR_PROCESSING", **kw: Any
    ) -> list[Order]:
        # the cyclic GC rescans the whole (growing) heap during big bulk creates; pause it
        enabled = gc.isenabled()
        gc.disable()
        try:
            return self._create_orders(seller, count, status, **kw)
        finally:
            if enabled:
                gc.enable()

    def _create_orders(self, seller: Seller, count: int, status: str, **kw: Any) -> list[Order]:
        seed = kw.pop("seed", None)
        rng = random.Random(seed) if seed is not None else self.rng
        offers = self.listed_offers(seller.id)
        if not offers:
            offers = self.create_offers(seller, 10)
        now = self.clock.now()
        bought_at = kw.pop("bought_at", None)
        spread = float(kw.pop("spread_seconds", 0))
        auto = bool(kw.pop("auto_lifecycle", False))
        gen_kw = {
            k: kw[k]
            for k in ("marketplace", "payment_type", "invoice", "lines", "delivery")
            if kw.get(k) is not None
        }
        out = []
        for i in range(count):
            if bought_at is not None:
                ts = float(bought_at)
            elif spread:
                ts = now - spread + spread * (i + 1) / count
            else:
                ts = now
            cf = data.make_checkout_form(rng, seller.id, offers, ts, **gen_kw)
            while cf["id"] in self.orders:
                cf["id"] = data.rand_uuid(rng)
            order = Order(cf, seller.id, ts)
            self.orders[cf["id"]] = order
            self.seller_orders[seller.id].append(order)
            self.dirty_orders.add(cf["id"])
            batch = [("BOUGHT", ts)]
            if status in ("FILLED_IN", "READY_FOR_PROCESSING", "BUYER_CANCELLED", "AUTO_CANCELLED"):
                self._fill_in(order, min(ts + 60, max(now, ts)), rng)
                batch.append(("FILLED_IN", min(ts + 60, max(now, ts))))
            if status == "READY_FOR_PROCESSING":
                self._pay(order, min(ts + 120, max(now, ts)))
                batch.append(("READY_FOR_PROCESSING", min(ts + 120, max(now, ts))))
            if status in ("BUYER_CANCELLED", "AUTO_CANCELLED"):
                self._cancel(order, max(now, ts), rng)
                batch.append((status, max(now, ts)))
            order.updated_ts = max(now, ts) if status != "BOUGHT" else ts
            order.cf["updatedAt"] = iso(order.updated_ts)
            self.emit(order, batch)
            self._stock_sold(order)
            if auto:
                self.plan_lifecycle(order, rng)
            out.append(order)
        self.dirty = True
        return out

    def _stock_sold(self, order: Order) -> None:
        for li in order.cf["lineItems"]:
            offer = self.offers.get(li["offer"]["id"])
            if offer:
                offer["available"] = max(0, offer["available"] - li["quantity"])
                offer["sold"] += li["quantity"]
                if offer["status"] == "ACTIVE":
                    self.emit_offer_event(order.seller_id, "OFFER_STOCK_CHANGED", offer)

    def plan_lifecycle(self, order: Order, rng: random.Random) -> None:
        """Realistic buyer behaviour on the sandbox clock (executed by ``tick``)."""
        t = order.bought_ts
        status = order.cf["status"]
        plan: list[tuple[float, str]] = []
        if status == "BOUGHT":
            t += rng.uniform(15, 180)
            if rng.random() < 0.04:
                plan.append((t, "BUYER_CANCELLED"))
                order.plan = plan
                return
            plan.append((t, "FILLED_IN"))
            status = "FILLED_IN"
        if status == "FILLED_IN":
            if rng.random() < 0.03:
                plan.append((t + rng.uniform(600, 1800), "AUTO_CANCELLED"))
            else:
                cod = order.cf["payment"]["type"] == "CASH_ON_DELIVERY"
                t += rng.uniform(1, 5) if cod else rng.uniform(20, 600)
                plan.append((t, "READY_FOR_PROCESSING"))
                if rng.random() < 0.02:
                    plan.append((t + rng.uniform(60, 3600), "BUYER_CANCELLED"))
        order.plan = plan

    def tick(self) -> int:
        """Run due lifecycle steps; returns how many ran."""
        now = self.clock.now()
        n = 0
        for order in list(self.orders.values()):
            while order.plan and order.plan[0][0] <= now and not order.deleted:
                _, action = order.plan.pop(0)
                try:
                    self.advance(order, action)
                    n += 1
                except ValueError:
                    order.plan = []
        for sid in list(self.journals):
            self.flush_pending(sid)
        return n

    def _new_revision(self, order: Order, rng: random.Random | None = None) -> None:
        order.cf["revision"] = data.rand_hex(rng or self.rng, 8)

    def _fill_in(self, order: Order, ts: float, rng: random.Random | None = None) -> None:
        order.cf["status"] = "FILLED_IN"
        self._new_revision(order, rng)

    def _pay(self, order: Order, ts: float) -> None:
        cf = order.cf
        cf["status"] = "READY_FOR_PROCESSING"
        pay = cf["payment"]
        if pay["type"] != "CASH_ON_DELIVERY":
            pay["finishedAt"] = iso(ts)
            pay["paidAmount"] = dict(cf["summary"]["totalToPay"])
        self._new_revision(order)

    def _cancel(self, order: Order, ts: float, rng: random.Random | None = None) -> None:
        order.cf["status"] = "CANCELLED"
        self._new_revision(order, rng)

    def advance(self, order: Order, action: str) -> Order:
        """Buyer/Allegro-side change. Bumps revision and updatedAt (not fulfillment)."""
        if order.deleted:
            raise ValueError("order was merged/deleted")
        now = self.clock.now()
        cf = order.cf
        status = cf["status"]
        action = action.upper()
        if action == "FILLED_IN":
            if status not in ("BOUGHT", "FILLED_IN"):
                raise ValueError(f"cannot fill in an order in status {status}")
            self._fill_in(order, now)
            events = [("FILLED_IN", now)]
        elif action == "READY_FOR_PROCESSING":
            if status == "CANCELLED":
                raise ValueError("order is cancelled")
            events = []
            if status == "BOUGHT":
                self._fill_in(order, now)
                events.append(("FILLED_IN", now))
            self._pay(order, now)
            events.append(("READY_FOR_PROCESSING", now))
        elif action in ("BUYER_CANCELLED", "AUTO_CANCELLED"):
            if status == "CANCELLED":
                raise ValueError("order is already cancelled")
            self._cancel(order, now)
            events = [(action, now)]
        elif action in ("MODIFY", "BUYER_MODIFIED"):
            data.modify_address(self.rng, cf)
            self._new_revision(order)
            events = [("BUYER_MODIFIED", now)]
        elif action == "SURCHARGE":
            extra = data.money(9.99, cf["summary"]["totalToPay"]["currency"])
            cf["surcharges"].append(
                {
                    "id": data.rand_uuid(self.rng),
                    "type": "ONLINE",
                    "provider": "PAYU",
                    "finishedAt": iso(now),
                    "paidAmount": extra,
                    "features": [],
                }
            )
            self._new_revision(order)
            events = [("READY_FOR_PROCESSING", now)]
        elif action == "RETURNED":
            cf["fulfillment"]["status"] = "RETURNED"
            order.touch()
            self.dirty_orders.add(order.id)
            self.emit(order, [("FULFILLMENT_STATUS_CHANGED", now)])
            return order
        else:
            raise ValueError(f"unknown action {action}")
        order.updated_ts = now
        cf["updatedAt"] = iso(now)
        order.touch()
        self.dirty_orders.add(order.id)
        self.emit(order, events)
        return order

    def merge(self, orders: list[Order]) -> Order:
        """Buyer pays several purchases together: new checkout form id, old ones disappear."""
        if len(orders) < 2:
            raise ValueError("merge needs at least two orders")
        seller_id = orders[0].seller_id
        if any(o.seller_id != seller_id or o.deleted for o in orders):
            raise ValueError("orders must be live orders of one seller")
        base = json.loads(json.dumps(orders[0].cf))
        base["id"] = data.rand_uuid(self.rng)
        base["lineItems"] = [li for o in orders for li in o.cf["lineItems"]]
        cur = base["summary"]["totalToPay"]["currency"]
        total = sum(float(o.cf["summary"]["totalToPay"]["amount"]) for o in orders)
        base["summary"]["totalToPay"] = data.money(total, cur)
        base["payment"]["id"] = data.rand_uuid(self.rng)
        now = self.clock.now()
        merged = Order(base, seller_id, min(o.bought_ts for o in orders))
        self.orders[base["id"]] = merged
        self.seller_orders[seller_id].append(merged)
        for o in orders:
            o.deleted = True
            o.merged_into = base["id"]
            o.plan = []
            self.dirty_orders.add(o.id)
        merged.cf["status"] = "FILLED_IN"
        self._pay(merged, now)
        merged.updated_ts = now
        merged.cf["updatedAt"] = iso(now)
        self.dirty_orders.add(base["id"])
        self.emit(merged, [("FILLED_IN", now), ("READY_FOR_PROCESSING", now)])
        return merged

    def visible_order(self, seller_id: str, order_id: str) -> Order | None:
        order = self.orders.get(order_id)
        if order is None or order.deleted or order.seller_id != seller_id:
            return None
        if order.bought_ts < self.clock.now() - ORDER_RETENTION:
            return None
        return order

    def set_fulfillment(self, order: Order, status: str, source: str = "API") -> None:
        order.cf["fulfillment"]["status"] = status
        order.fulfillment_changes += 1
        now = self.clock.now()
        order.fulfillment_history.append({"status": status, "at": iso(now), "source": source})
        order.touch()
        self.dirty_orders.add(order.id)
        self.emit(order, [("FULFILLMENT_STATUS_CHANGED", now)])

    def add_shipment(self, order: Order, body: dict[str, Any]) -> dict[str, Any]:
        now = self.clock.now()
        seller = self.sellers[order.seller_id]
        shipment = {
            "id": base64.b64encode(f"{body['carrierId']}:{body['waybill']}".encode()).decode(),
            "waybill": body["waybill"],
            "carrierId": body["carrierId"],
            "lineItems": body["lineItems"],
            "createdAt": iso(now),
        }
        if body["carrierId"] == "OTHER" and body.get("carrierName"):
            shipment["carrierName"] = body["carrierName"]
        else:
            shipment["carrierName"] = dict(CARRIERS).get(body["carrierId"]) or body["carrierId"]
        order.shipments.append(shipment)
        sent = {li["id"] for s in order.shipments for li in s["lineItems"]}
        all_ids = {li["id"] for li in order.cf["lineItems"]}
        order.cf["fulfillment"]["shipmentSummary"]["lineItemsSent"] = (
            "ALL" if all_ids <= sent else "SOME"
        )
        order.touch()
        self.dirty_orders.add(order.id)
        if seller.auto_sent_after_waybill and order.cf["fulfillment"]["status"] != "SENT":
            order.cf["fulfillment"]["status"] = "SENT"
            order.fulfillment_history.append(
                {"status": "SENT", "at": iso(now), "source": "AUTO_AFTER_WAYBILL"}
            )
            self.emit(order, [("FULFILLMENT_STATUS_CHANGED", now)])
        return shipment

    def waybill_usage(self, carrier_id: str, waybill: str) -> int:
        n = 0
        for o in self.orders.values():
            for s in o.shipments:
                if s["waybill"] == waybill and s["carrierId"] == carrier_id:
                    n += 1
        return n
