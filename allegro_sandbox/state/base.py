"""Constants and the small records of the simulated Allegro: accounts, client apps, tokens."""

from __future__ import annotations

import base64
import collections
from dataclasses import asdict, dataclass, field
from typing import Any

from ..clock import Clock, iso

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
