"""In-memory state of the simulated Allegro, guarded by one lock, optionally saved to SQLite."""

from __future__ import annotations

import base64
import bisect
import collections
import gc
import json
import random
import sqlite3
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from . import data
from .clock import Clock, iso

ALL_SCOPES = [
    "allegro:api:profile:read",
    "allegro:api:profile:write",
    "allegro:api:sale:offers:read",
    "allegro:api:sale:offers:write",
    "allegro:api:orders:read",
    "allegro:api:orders:write",
    "allegro:api:shipments:read",
    "allegro:api:shipments:write",
    "allegro:api:ratings",
    "allegro:api:disputes",
    "allegro:api:bids",
    "allegro:api:messaging",
    "allegro:api:billing:read",
    "allegro:api:payments:read",
    "allegro:api:payments:write",
    "allegro:api:sale:settings:read",
    "allegro:api:sale:settings:write",
    "allegro:api:campaigns",
    "allegro:api:fulfillment:read",
    "allegro:api:fulfillment:write",
    "allegro:api:affiliate:read",
    "allegro:api:affiliate:write",
]
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
ALL_GRANTS = ["authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT]

EVENT_RETENTION = 60 * 86400
OFFER_EVENT_RETENTION = 86400
ORDER_RETENTION = 365 * 86400
CODE_TTL = 10
REFRESH_TTL = 90 * 86400
DEVICE_TTL = 3600
DEVICE_INTERVAL = 5
MAX_FULFILLMENT_CHANGES = 100
MAX_WAYBILL_USAGE = 5

CARRIERS = [
    ("ALLEGRO", "Allegro One Kurier"),
    ("INPOST", "InPost"),
    ("DPD", "DPD"),
    ("DHL", "DHL"),
    ("UPS", "UPS"),
    ("GLS", "GLS"),
    ("POCZTA_POLSKA", "Poczta Polska"),
    ("ORLEN", "ORLEN Paczka"),
    ("FEDEX", "FedEx"),
    ("GEIS", "Geis"),
    ("RABEN", "Raben"),
    ("DB_SCHENKER", "DB Schenker"),
    ("YUN_EXPRESS", "Yun Express"),
    ("OTHER", None),
]
CARRIER_IDS = {c[0] for c in CARRIERS}

ORDER_EVENT_TYPES = [
    "BOUGHT",
    "FILLED_IN",
    "READY_FOR_PROCESSING",
    "BUYER_CANCELLED",
    "FULFILLMENT_STATUS_CHANGED",
    "BUYER_MODIFIED",
    "AUTO_CANCELLED",
]
FULFILLMENT_STATUSES = [
    "NEW",
    "PROCESSING",
    "READY_FOR_SHIPMENT",
    "READY_FOR_PICKUP",
    "SENT",
    "PICKED_UP",
    "CANCELLED",
    "SUSPENDED",
    "RETURNED",
]
FAULT_FIELDS = {
    "drop_events": float,  # share of new journal events withheld until released
    "duplicate_events": float,  # share of events inserted twice (different ids)
    "out_of_order": float,  # share of event batches inserted in reverse order
    "delay_events_seconds": float,  # events inserted this many (sandbox) seconds late
    "error_5xx": float,  # share of API requests answered with a 5xx
    "error_status": int,  # which 5xx (default 500)
    "latency_ms": float,  # added latency on API requests
    "timeout": float,  # share of API requests that hang and then close without an answer
    "hang_seconds": float,  # how long a "timeout" hangs (default 120)
    "reset": float,  # share of API requests answered with a TCP reset
    "block_429_seconds": float,  # block the client id (429) for this long, starting now
    "path_prefix": str,  # restrict request faults to paths with this prefix
    "include_auth": bool,  # request faults also hit /auth/oauth/token
    "seed": int,
}


@dataclass
class Seller:
    id: str
    login: str
    password: str
    first_name: str = "Jan"
    last_name: str = "Sprzedawca"
    email: str = ""
    company_name: str | None = None
    company_tax_id: str | None = None
    token_epoch: int = 0
    auto_sent_after_waybill: bool = False
    features: list[str] = field(default_factory=list)
    marketplace: str = "allegro-pl"
    # Sender addresses registered on the account (/account/additional-emails): the relay of
    # @allegromail.pl accepts mail to this seller's buyers only from these.
    additional_emails: list[dict[str, str]] = field(default_factory=list)

    def public(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("password")
        return d


@dataclass
class ClientApp:
    client_id: str
    client_secret: str
    redirect_uris: list[str]
    name: str = "Sandbox app"
    scopes: list[str] = field(default_factory=lambda: list(ALL_SCOPES))
    grant_types: list[str] = field(default_factory=lambda: list(ALL_GRANTS))
    access_token_ttl: int = 43199
    refresh_token_ttl: int = REFRESH_TTL
    refresh_grace_seconds: int = 60
    revoke_access_on_refresh: bool = True

    def public(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Token:
    token: str
    kind: str  # access | refresh
    jti: str
    client_id: str
    seller_id: str | None
    scopes: list[str]
    issued: float
    exp: float
    epoch: int = 0
    revoked: bool = False
    first_used: float | None = None
    ati: str | None = None  # for refresh tokens: the jti of the access token issued with it


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


class RateLimiter:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.limit = 9000
        self.window = 60.0
        self.block_seconds = 60.0
        self.per_client: dict[str, int] = {}
        self.hits: dict[str, collections.deque[float]] = {}
        self.blocked_until: dict[str, float] = {}

    def config(self) -> dict[str, Any]:
        return {
            "limit": self.limit,
            "window_seconds": self.window,
            "block_seconds": self.block_seconds,
            "per_client": dict(self.per_client),
            "blocked_until": {k: iso(v) for k, v in self.blocked_until.items()},
        }

    def block(self, client_id: str, seconds: float) -> None:
        self.blocked_until[client_id] = self.clock.now() + seconds

    def check(self, client_id: str) -> bool:
        """True if allowed. A request during a block extends the block."""
        now = self.clock.now()
        until = self.blocked_until.get(client_id)
        if until is not None:
            if now < until:
                self.blocked_until[client_id] = max(until, now + self.block_seconds)
                return False
            del self.blocked_until[client_id]
            self.hits.pop(client_id, None)
        q = self.hits.setdefault(client_id, collections.deque())
        edge = now - self.window
        while q and q[0] <= edge:
            q.popleft()
        if len(q) >= self.per_client.get(client_id, self.limit):
            self.blocked_until[client_id] = now + self.block_seconds
            return False
        q.append(now)
        return True


def b64id(n: int) -> str:
    return base64.b64encode(str(n).encode()).decode().rstrip("=")


def unb64id(s: str) -> int:
    return int(base64.b64decode(s + "=" * (-len(s) % 4), validate=True).decode())


class Store:
    """All sandbox state. Every public method expects the caller to hold ``self.lock``."""

    def __init__(self, clock: Clock, seed: int = 1234) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.seed = seed
        self.persist: Persistence | None = None
        self.hang_release = threading.Event()
        self.clear()

    # ------------------------------------------------------------------ lifecycle
    def clear(self) -> None:
        self.rng = random.Random(self.seed)
        self.sellers: dict[str, Seller] = {}  # by id
        self.logins: dict[str, str] = {}  # login -> id
        self.clients: dict[str, ClientApp] = {}
        self.tokens: dict[str, Token] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.devices: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, str] = {}  # browser cookie -> seller id
        self.orders: dict[str, Order] = {}
        self.seller_orders: dict[str, list[Order]] = collections.defaultdict(list)
        self.journals: dict[str, SellerJournal] = collections.defaultdict(SellerJournal)
        self.last_event_id = 0
        self.offers: dict[str, dict[str, Any]] = {}
        self.seller_offers: dict[str, list[str]] = collections.defaultdict(list)
        self.offer_events: dict[str, list[dict[str, Any]]] = collections.defaultdict(list)
        self.offer_event_seq = 1_000_000_000
        self.faults: dict[str, dict[str, Any]] = {}  # "global" | "seller:<id>" | "client:<id>"
        self.fault_rngs: dict[str, random.Random] = {}
        # Checkout forms GET /order/checkout-forms/{id} cannot serve (id -> 5xx status), as
        # Allegro has done for single orders for hours; the list endpoint still has them.
        self.unreadable_forms: dict[str, int] = {}
        self.rate = RateLimiter(self.clock)
        self.token_calls: dict[str, collections.Counter[str]] = collections.defaultdict(
            collections.Counter
        )
        self.requests: collections.Counter[str] = collections.Counter()
        self.requests_by_client: collections.Counter[str] = collections.Counter()
        self.requests_by_status: collections.Counter[str] = collections.Counter()
        self.buyers_rate = 0.0
        self.buyers_sellers: list[str] = []
        self.dirty_orders: set[str] = set()
        self.dirty = True
        self.saved_event_id = 0
        # wake anything hanging on a "timeout" fault
        self.hang_release.set()
        self.hang_release = threading.Event()

    # ------------------------------------------------------------------ accounts
    def create_seller(self, login: str, password: str, **kw: Any) -> Seller:
        if login in self.logins:
            raise ValueError(f"seller {login!r} exists")
        sid = str(kw.pop("id", None) or self.rng.randint(40_000_000, 140_000_000))
        if sid in self.sellers:
            raise ValueError(f"seller id {sid} exists")
        offers = int(kw.pop("offers", 20))
        kw.setdefault("email", f"{login}@sandbox.allegro.local")
        allowed = set(Seller.__dataclass_fields__)
        seller = Seller(
            id=sid, login=login, password=password, **{k: v for k, v in kw.items() if k in allowed}
        )
        self.sellers[sid] = seller
        self.logins[login] = sid
        if offers:
            self.create_offers(seller, offers)
        self.dirty = True
        return seller

    def seller_by_login(self, login: str) -> Seller | None:
        sid = self.logins.get(login)
        return self.sellers.get(sid) if sid else None

    def seller_ref(self, ref: str) -> Seller | None:
        return self.seller_by_login(ref) or self.sellers.get(ref)

    def create_client(self, client_id: str, client_secret: str, **kw: Any) -> ClientApp:
        allowed = set(ClientApp.__dataclass_fields__)
        app = ClientApp(
            client_id=client_id,
            client_secret=client_secret,
            redirect_uris=list(kw.pop("redirect_uris", [])),
            **{k: v for k, v in kw.items() if k in allowed},
        )
        self.clients[client_id] = app
        self.dirty = True
        return app

    def revoke_seller_tokens(self, seller: Seller) -> int:
        seller.token_epoch += 1
        n = 0
        for t in self.tokens.values():
            if t.seller_id == seller.id and not t.revoked:
                t.revoked = True
                n += 1
        self.dirty = True
        return n

    # ------------------------------------------------------------------ offers
    def create_offers(self, seller: Seller, count: int) -> list[dict[str, Any]]:
        now = self.clock.now()
        offers = data.make_offers(self.rng, seller.id, count, now)
        for o in offers:
            while o["id"] in self.offers:
                o["id"] = str(int(o["id"]) + 1)
            self.offers[o["id"]] = o
            self.seller_offers[seller.id].append(o["id"])
            if o["status"] in ("ACTIVE", "ACTIVATING"):
                self.emit_offer_event(seller.id, "OFFER_ACTIVATED", o)
        self.dirty = True
        return offers

    def emit_offer_event(self, seller_id: str, type_: str, offer: dict[str, Any]) -> None:
        self.offer_event_seq += 1
        ev: dict[str, Any] = {
            "seq": self.offer_event_seq,
            "type": type_,
            "occurred": self.clock.now(),
            "offer": {"id": offer["id"], "external": {"id": offer["external_id"]}},
        }
        if type_ == "OFFER_PRICE_CHANGED":
            ev["offer"]["sellingMode"] = {"price": data.money(offer["price"], offer["currency"])}
        self.offer_events[seller_id].append(ev)
        self.dirty = True

    # ------------------------------------------------------------------ journal
    def next_event_id(self) -> int:
        candidate = int(self.clock.now() * 1_000_000)
        self.last_event_id = max(self.last_event_id + 1, candidate)
        return self.last_event_id

    def _fault_rng(self, key: str) -> random.Random:
        rng = self.fault_rngs.get(key)
        if rng is None:
            rng = random.Random(self.faults.get(key, {}).get("seed", 0))
            self.fault_rngs[key] = rng
        return rng

    def _event_faults(self, seller_id: str) -> tuple[dict[str, Any], random.Random]:
        key = f"seller:{seller_id}"
        if key in self.faults:
            return self.faults[key], self._fault_rng(key)
        return self.faults.get("global", {}), self._fault_rng("global")

    @staticmethod
    def _hit(rng: random.Random, share: float | None) -> bool:
        if not share:
            return False
        return share >= 1 or rng.random() < share

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
        offers = [self.offers[i] for i in self.seller_offers.get(seller.id, [])]
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

    # ------------------------------------------------------------------ faults
    @staticmethod
    def fault_key(seller_id: str | None, client_id: str | None) -> str:
        if seller_id:
            return f"seller:{seller_id}"
        if client_id:
            return f"client:{client_id}"
        return "global"

    def set_faults(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        cfg = dict(self.faults.get(key, {}))
        for name, value in values.items():
            if name not in FAULT_FIELDS:
                raise ValueError(f"unknown fault {name!r}")
            if value is None:
                cfg.pop(name, None)
            else:
                cfg[name] = FAULT_FIELDS[name](value)
        self.faults[key] = cfg
        self.fault_rngs.pop(key, None)
        if cfg.get("block_429_seconds") and key.startswith("client:"):
            self.rate.block(key.split(":", 1)[1], cfg.pop("block_429_seconds"))
        return cfg

    def clear_faults(self, key: str | None) -> None:
        if key is None:
            self.faults.clear()
            self.fault_rngs.clear()
            self.rate.blocked_until.clear()
        else:
            self.faults.pop(key, None)
            self.fault_rngs.pop(key, None)
            if key.startswith("client:"):
                self.rate.blocked_until.pop(key.split(":", 1)[1], None)
        # anything hanging on a timeout fault is let go
        self.hang_release.set()
        self.hang_release = threading.Event()

    def request_faults(
        self, seller_id: str | None, client_id: str | None
    ) -> tuple[dict[str, Any], random.Random]:
        for key in (
            f"seller:{seller_id}" if seller_id else None,
            f"client:{client_id}" if client_id else None,
            "global",
        ):
            if key and key in self.faults:
                return self.faults[key], self._fault_rng(key)
        return {}, self._fault_rng("global")

    # ------------------------------------------------------------------ persistence
    def snapshot_small(self) -> dict[str, Any]:
        return {
            "sellers": [asdict(s) for s in self.sellers.values()],
            "clients": [asdict(c) for c in self.clients.values()],
            "tokens": [asdict(t) for t in self.tokens.values()],
            "offers": list(self.offers.values()),
            "seller_offers": self.seller_offers,
            "offer_events": self.offer_events,
            "offer_event_seq": self.offer_event_seq,
            "last_event_id": self.last_event_id,
            "faults": self.faults,
            "unreadable_forms": self.unreadable_forms,
            "clock_offset": self.clock.offset,
            "pending": {
                sid: {
                    "withheld": [e.dump() for e in j.withheld],
                    "pending": [(t, e.dump()) for t, e in j.pending],
                }
                for sid, j in self.journals.items()
                if j.withheld or j.pending
            },
        }


def _event_from(d: dict[str, Any]) -> Event:
    ev = Event(d["seller_id"], d["type"], d["occurred"], d["order_id"], d["payload"])
    ev.id = d["id"]
    return ev


class Persistence:
    """Saves the store to a SQLite file: small objects as JSON blobs, orders/events as rows."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, seller_id TEXT, data TEXT);"
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, seller_id TEXT, data TEXT);"
        )

    def has_state(self) -> bool:
        return self.db.execute("SELECT count(*) FROM kv").fetchone()[0] > 0

    def wipe(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM kv")
            self.db.execute("DELETE FROM orders")
            self.db.execute("DELETE FROM events")

    def save(self, store: Store) -> None:
        with store.lock:
            if not store.dirty and not store.dirty_orders:
                return
            small = json.dumps(store.snapshot_small(), ensure_ascii=False)
            rows = [
                (oid, store.orders[oid].seller_id, json.dumps(store.orders[oid].dump()))
                for oid in store.dirty_orders
                if oid in store.orders
            ]
            new_events = [
                (ev.id, ev.seller_id, json.dumps(ev.dump()))
                for j in store.journals.values()
                for ev in j.events[bisect.bisect_right(j.ids, store.saved_event_id) :]
            ]
            store.dirty_orders = set()
            store.dirty = False
            store.saved_event_id = store.last_event_id
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO kv VALUES ('state', ?)", (small,))
            self.db.executemany("INSERT OR REPLACE INTO orders VALUES (?, ?, ?)", rows)
            self.db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?)", new_events)

    def load(self, store: Store) -> None:
        row = self.db.execute("SELECT value FROM kv WHERE key='state'").fetchone()
        if not row:
            return
        st = json.loads(row[0])
        with store.lock:
            store.clear()
            for s in st["sellers"]:
                seller = Seller(**s)
                store.sellers[seller.id] = seller
                store.logins[seller.login] = seller.id
            for c in st["clients"]:
                store.clients[c["client_id"]] = ClientApp(**c)
            for t in st["tokens"]:
                store.tokens[t["token"]] = Token(**t)
            store.offers = {o["id"]: o for o in st["offers"]}
            store.seller_offers.update(st["seller_offers"])
            store.offer_events.update(st["offer_events"])
            store.offer_event_seq = st["offer_event_seq"]
            store.last_event_id = st["last_event_id"]
            store.faults = st["faults"]
            store.unreadable_forms = dict(st.get("unreadable_forms", {}))
            if st.get("clock_offset"):
                store.clock.advance(max(0.0, st["clock_offset"] - store.clock.offset))
            for oid, sid, blob in self.db.execute("SELECT id, seller_id, data FROM orders"):
                order = Order.load(json.loads(blob))
                store.orders[oid] = order
                store.seller_orders[sid].append(order)
            for sid in store.seller_orders:
                store.seller_orders[sid].sort(key=lambda o: o.bought_ts)
            for (blob,) in self.db.execute("SELECT data FROM events ORDER BY id"):
                ev = _event_from(json.loads(blob))
                j = store.journals[ev.seller_id]
                j.ids.append(ev.id)
                j.events.append(ev)
            for sid, p in st.get("pending", {}).items():
                j = store.journals[sid]
                j.withheld = [_event_from(d) for d in p["withheld"]]
                j.pending = [(t, _event_from(d)) for t, d in p["pending"]]
            store.saved_event_id = store.last_event_id
            store.dirty = False
