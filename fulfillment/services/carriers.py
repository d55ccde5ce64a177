"""Carriers for shipments: Allegro's ``GET /order/carriers``, cached per Allegro environment.

The list is the same for every seller of an environment, so the cache key is the environment
(no tenant data in it). If Allegro cannot be asked (not connected, an error), the carriers seen
in the wild (REFERENCE §3.5) are offered and the miss is cached briefly.

The shipment form proposes the carrier the order's delivery method names (`proposed_carrier`),
matched against that list by name, with no call of its own.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence

from django.core.cache import cache
from django.utils.translation import gettext as _

from channels.clients.allegro import AllegroClient, AllegroError, get_environment
from channels.models import SalesChannel
from channels.services.api import call
from fulfillment import conf
from orders.models import DeliveryMethod, Order

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


# --------------------------------------------------------------------------- proposing one
# Words in delivery-method names that stand for a carrier without naming it as the carriers
# list does ("Allegro One Box, One Kurier" is Allegro One; "Allegro Pocztex Kurier 48" is
# Poczta Polska's Pocztex).
ALIASES: dict[str, tuple[tuple[str, ...], ...]] = {
    "ALLEGRO": (("one", "kurier"), ("one", "box"), ("one", "punkt")),
    "POCZTA_POLSKA": (("pocztex",),),
}


def _words(text: str) -> tuple[str, ...]:
    """Lower-case ASCII words: "Allegro Kurier24 InPost" → ("allegro", "kurier24", "inpost")."""
    text = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return tuple(re.findall(r"[a-z0-9]+", text.casefold()))


def _without_brand(words: tuple[str, ...]) -> tuple[str, ...]:
    # Allegro's own methods all start with "Allegro" ("Allegro Kurier DPD"); the carrier
    # "Allegro One Kurier" too. The word says nothing about the carrier unless it is all.
    return words[1:] if len(words) > 1 and words[0] == "allegro" else words


def _contains(words: tuple[str, ...], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return n > 0 and any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def carrier_for_delivery(method_name: str, carriers: Sequence[tuple[str, str]]) -> str | None:
    """The id of the carrier that the delivery method's name names ("Allegro Kurier InPost" →
    INPOST), from ``carriers`` ([(id, label)], as carriers_for gives them). None when no carrier
    or more than one is named: no guess is better than a wrong one."""
    words = _without_brand(_words(method_name or ""))
    if not words:
        return None
    best: dict[str, int] = {}
    for carrier_id, label in carriers:
        if carrier_id == OTHER:
            continue
        phrases = {
            _without_brand(_words(label)),
            _words(carrier_id.replace("_", " ")),
            *ALIASES.get(carrier_id, ()),
        }
        for phrase in phrases:
            if phrase != ("allegro",) and _contains(words, phrase):
                best[carrier_id] = max(best.get(carrier_id, 0), len(phrase))
    if not best:
        return None
    longest = max(best.values())
    named = [carrier_id for carrier_id, size in best.items() if size == longest]
    return named[0] if len(named) == 1 else None


def proposed_carrier(order: Order, carriers: Sequence[tuple[str, str]]) -> str | None:
    """The carrier the shipment form proposes for ``order``: the one its delivery method names
    (the method's name on the order, else the name the tenant's orders gave that method id)."""
    name = order.delivery_method_name
    if not name and order.delivery_method_id:
        name = (
            DeliveryMethod.objects.filter(
                tenant_id=order.tenant_id, external_id=order.delivery_method_id
            )
            .values_list("name", flat=True)
            .first()
            or ""
        )
    return carrier_for_delivery(name, carriers)
