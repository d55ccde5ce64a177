"""In-memory state of the simulated Allegro, guarded by one lock, optionally saved to SQLite.

One facade over its parts: accounts and constants (``base``), orders and their journal
(``orders``), offers (``offers``), Wysyłam z Allegro shipments (``shipments``), faults
(``faults``), the ``Store`` that joins them (``store``) and its SQLite ``persistence``.
"""

from .base import (
    ALL_GRANTS,
    ALL_SCOPES,
    CARRIER_IDS,
    CARRIERS,
    CODE_TTL,
    DEVICE_GRANT,
    DEVICE_INTERVAL,
    DEVICE_TTL,
    EVENT_RETENTION,
    FULFILLMENT_STATUSES,
    MAX_FULFILLMENT_CHANGES,
    MAX_WAYBILL_USAGE,
    OFFER_EVENT_RETENTION,
    ORDER_EVENT_TYPES,
    ORDER_RETENTION,
    REFRESH_TTL,
    ClientApp,
    RateLimiter,
    Seller,
    Token,
    b64id,
    unb64id,
)
from .faults import FAULT_FIELDS
from .orders import Event, Order, SellerJournal
from .persistence import Persistence
from .shipments import DELIVERY_METHODS, UNSUPPORTED_METHODS, Shipment, WzaError
from .store import Store

__all__ = [
    "ALL_GRANTS",
    "ALL_SCOPES",
    "CARRIERS",
    "CARRIER_IDS",
    "CODE_TTL",
    "DELIVERY_METHODS",
    "DEVICE_GRANT",
    "DEVICE_INTERVAL",
    "DEVICE_TTL",
    "EVENT_RETENTION",
    "FAULT_FIELDS",
    "FULFILLMENT_STATUSES",
    "MAX_FULFILLMENT_CHANGES",
    "MAX_WAYBILL_USAGE",
    "OFFER_EVENT_RETENTION",
    "ORDER_EVENT_TYPES",
    "ORDER_RETENTION",
    "REFRESH_TTL",
    "UNSUPPORTED_METHODS",
    "ClientApp",
    "Event",
    "Order",
    "Persistence",
    "RateLimiter",
    "Seller",
    "SellerJournal",
    "Shipment",
    "Store",
    "Token",
    "WzaError",
    "b64id",
    "unb64id",
]
