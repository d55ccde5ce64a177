"""All sandbox state in one object, guarded by one lock."""

from __future__ import annotations

import collections
import random
import threading
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from ..clock import Clock
from .base import ClientApp, RateLimiter, Seller, Token
from .faults import FaultsMixin
from .offers import OffersMixin
from .orders import Order, OrdersMixin, SellerJournal
from .quantity import QuantityMixin
from .shipments import ShipmentsMixin

if TYPE_CHECKING:
    from .persistence import Persistence


class Store(OrdersMixin, OffersMixin, ShipmentsMixin, QuantityMixin, FaultsMixin):
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
        # Checkout forms the list endpoint leaves out (its index lagging behind), while
        # GET /order/checkout-forms/{id} serves them.
        self.unlisted_forms: set[str] = set()
        # Checkout forms the list endpoint serves as they were when marked (id -> the form's
        # JSON then), while GET /order/checkout-forms/{id} serves them as they are.
        self.stale_listed_forms: dict[str, str] = {}
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
        self.clear_shipments()
        self.clear_quantity()
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
            "unlisted_forms": sorted(self.unlisted_forms),
            "stale_listed_forms": self.stale_listed_forms,
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
