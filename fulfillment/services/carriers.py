"""Carriers for shipments: Allegro's ``GET /order/carriers``, cached per Allegro environment.

The list is the same for every seller of an environment, so the cache key is the environment
(no tenant data in it). If Allegro cannot be asked (not connected, an error), the carriers seen
in the wild (REFERENCE §3.5) are offered and the miss is cached briefly.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils.translation import gettext as _

from channels.clients.allegro import AllegroClient, AllegroError, get_environment
from channels.models import SalesChannel
from channels.services.api import call
from fulfillment import conf

logger = logging.getLogger("fulfillment.carriers")

OTHER = "OTHER"
KNOWN: tuple[tuple[str, str], ...] = (
    ("ALLEGRO", "Allegro"),
    ("INPOST", "InPost"),
    ("DPD", "DPD"),
    ("DHL", "DHL"),
    ("GLS", "GLS"),
    ("UPS", "UPS"),
    ("POCZTA_POLSKA", "Poczta Polska"),
    ("FEDEX", "FedEx"),
    ("RUCH", "Ruch"),
    ("DB_SCHENKER", "DB Schenker"),
    ("RABEN", "Raben"),
    ("GEIS", "Geis"),
    ("PATRON", "Patron"),
    ("X_PRESS_COURIERS", "X-press Couriers"),
    ("RHENUS_LOGISTICS", "Rhenus Logistics"),
    ("WEDO", "WE|DO"),
    ("YUN_EXPRESS", "Yun Express"),
    ("TNT_EXPRESS", "TNT Express"),
    ("DTS", "DTS"),
    ("PEKAES", "Pekaes"),
)
FALLBACK_CACHE_SECONDS = 300


def _key(environment: str) -> str:
    return f"fulfillment:carriers:{environment}"


def carriers_for(channel: SalesChannel) -> list[tuple[str, str]]:
    """[(carrier id, label)] with OTHER last; from the cache, else from Allegro."""
    key = _key(channel.allegro_environment)
    cached = cache.get(key)
    if cached is None:
        cached = _fetch(channel)
        ttl = conf.get("FULFILLMENT_CARRIERS_CACHE_SECONDS") if cached else FALLBACK_CACHE_SECONDS
        cached = cached or [list(pair) for pair in KNOWN]
        cache.set(key, cached, int(ttl))
    pairs = [(str(cid), str(name)) for cid, name in cached if cid != OTHER]
    pairs.append((OTHER, _("Other carrier (enter its name)")))
    return pairs


def _fetch(channel: SalesChannel) -> list[list[str]]:
    if not channel.is_connected:
        return []
    try:
        # A page is waiting: short timeouts, no queueing behind the rate limiter.
        client = AllegroClient(
            get_environment(channel.allegro_environment), timeout=(2.0, 4.0), rate_limit_max_wait=0
        )
        data = call(channel, "GET", "/order/carriers", client=client).data
    except (AllegroError, Exception) as exc:  # never break the order page
        logger.warning("carriers of %s unavailable: %s", channel.allegro_environment, exc)
        return []
    out = []
    for entry in (data or {}).get("carriers") or []:
        if isinstance(entry, dict) and entry.get("id"):
            out.append([str(entry["id"]), str(entry.get("name") or entry["id"])])
    return out


def label_of(channel: SalesChannel, carrier_id: str) -> str:
    return dict(carriers_for(channel)).get(carrier_id, carrier_id)
