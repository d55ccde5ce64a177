"""Carriers for shipments: Allegro's ``GET /order/carriers``, stored per channel.

Pages never call Allegro for them (DESIGN §1: no Allegro call while rendering a page or inside a
transaction). ``carriers_for`` reads the list a task stored (``ChannelCarriers``, through the
cache); a channel that has none yet gets the carriers seen in the wild (``KNOWN``, REFERENCE
§3.5) and a refresh is queued. ``refresh_carriers`` (fulfillment.tasks.refresh_carriers,
outside any transaction) asks Allegro and stores the answer; it runs when a channel connects,
when a page found no list, and from beat for every list older than
``FULFILLMENT_CARRIERS_CACHE_SECONDS`` (``refresh_due``). A failed refresh keeps the list it
had (or none): the fallback is never stored as if Allegro had said it.

The shipment form proposes the carrier the order's delivery method names (`proposed_carrier`),
matched against that list by name, with no call of its own.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from kombu.exceptions import OperationalError

from channels.clients.allegro import (
    AllegroCarrier,
    AllegroClient,
    AllegroError,
    UnknownEnvironment,
)
from channels.models import SalesChannel
from channels.services.api import on_behalf
from core.models import assert_writable_in_scope
from fulfillment.models import ChannelCarriers
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
# A page that finds no list queues one refresh per channel in this time at most, and reads
# the row again after it.
QUEUE_AGAIN_AFTER_SECONDS = 60


def _key(tenant_id: int, channel_id: int) -> str:
    return f"fulfillment:carriers:{tenant_id}:{channel_id}"


# --------------------------------------------------------------------------- reading (pages)
def carriers_for(channel: SalesChannel) -> list[tuple[str, str]]:
    """[(carrier id, label)] with OTHER last: the channel's stored list from Allegro, or the
    fallback list while it has none (and then a refresh is queued). Never calls Allegro.

    The row is read through the cache (every order page needs it); the refresh writes both,
    so a Redis flush only costs a query."""
    key = _key(channel.tenant_id, channel.pk)
    cached = cache.get(key)
    if cached is None:
        stored = (
            ChannelCarriers.objects.filter(tenant_id=channel.tenant_id, channel_id=channel.pk)
            .values_list("carriers", "next_refresh_at")
            .first()
        )
        cached = (stored[0], stored[1]) if stored else ([], None)
        # add, not set: a refresh that stored a newer list meanwhile is not overwritten.
        cache.add(key, cached, _cache_seconds(cached[0]))
    pairs: Sequence[Sequence[str]] = cached[0]
    if not pairs:
        next_refresh_at = cached[1]
        if next_refresh_at is None or next_refresh_at <= timezone.now():
            queue_refresh(channel)
        pairs = KNOWN
    out = [(str(cid), str(name)) for cid, name in pairs if cid != OTHER]
    out.append((OTHER, _("Other carrier (enter its name)")))
    return out


def _cache_seconds(pairs: Sequence[Sequence[str]]) -> int:
    return int(settings.FULFILLMENT_CARRIERS_CACHE_SECONDS) if pairs else QUEUE_AGAIN_AFTER_SECONDS


def label_of(channel: SalesChannel, carrier_id: str) -> str:
    """The carrier's name as the channel's list has it (the id when the list does not)."""
    return dict(carriers_for(channel)).get(carrier_id, carrier_id)


def queue_refresh(channel: SalesChannel) -> None:
    """Fetch the channel's carriers in a task, after the caller's transaction commits (at most
    once a minute per channel from pages; beat refreshes anything missed)."""
    if not channel.is_connected:
        return
    key = f"{_key(channel.tenant_id, channel.pk)}:queued"
    if cache.add(key, 1, QUEUE_AGAIN_AFTER_SECONDS):
        transaction.on_commit(partial(_dispatch, channel.tenant_id, channel.pk))


def refresh_when_connected(sender: Any, channel: SalesChannel, **kwargs: Any) -> None:
    """channels.signals.channel_connected: a newly (re)authorized account fetches its list."""
    transaction.on_commit(partial(_dispatch, channel.tenant_id, channel.pk))


def _dispatch(tenant_id: int, channel_id: int) -> None:
    # Imported here: fulfillment.tasks imports this module. Not dispatch_after_commit: callers
    # already run after commit, and a broker that is down must not fail the page.
    from fulfillment.tasks import refresh_carriers as refresh_task

    try:
        refresh_task.delay(tenant_id, channel_id)
    except OperationalError as exc:  # the broker is down: beat refreshes the list later
        logger.warning("carriers refresh of channel %s not queued: %s", channel_id, exc)


# --------------------------------------------------------------------------- fetching (tasks)
def refresh_carriers(channel_id: int) -> bool:
    """Ask Allegro for the channel's carriers and store them. True when stored. Runs in a task,
    in the channel's tenant scope, outside any transaction (the call may refresh the token).
    A failure is logged and keeps what was stored; beat tries again later."""
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.is_connected:
        return False
    now = timezone.now()
    try:
        carriers = on_behalf(channel, AllegroClient.list_carriers)
    except (AllegroError, UnknownEnvironment) as exc:
        logger.warning(
            "carriers of channel %s unavailable: %s: %s", channel_id, type(exc).__name__, exc
        )
        _store(channel, None, next_refresh_at=now + _retry_after())
        return False
    pairs = _pairs(carriers)
    if not pairs:
        logger.warning("carriers of channel %s: Allegro listed none", channel_id)
        _store(channel, None, next_refresh_at=now + _retry_after())
        return False
    _store(channel, pairs, next_refresh_at=now + _max_age(), fetched_at=now)
    return True


def _pairs(carriers: list[AllegroCarrier]) -> list[list[str]]:
    # OTHER is the form's own choice, with its own label: not stored.
    return [[c.id, c.name or c.id] for c in carriers if c.id != OTHER]


def _store(
    channel: SalesChannel,
    pairs: list[list[str]] | None,
    *,
    next_refresh_at: datetime,
    fetched_at: datetime | None = None,
) -> None:
    """One upsert keyed on (tenant, channel); ``pairs`` None keeps the stored list."""
    assert_writable_in_scope(channel.tenant_id)
    row = ChannelCarriers(
        tenant_id=channel.tenant_id,
        channel_id=channel.pk,
        carriers=pairs or [],
        fetched_at=fetched_at,
        next_refresh_at=next_refresh_at,
    )
    fields = ["next_refresh_at"] if pairs is None else ["carriers", "fetched_at", "next_refresh_at"]
    ChannelCarriers.objects.bulk_create(
        [row], update_conflicts=True, unique_fields=["tenant", "channel"], update_fields=fields
    )
    key = _key(channel.tenant_id, channel.pk)
    if pairs is None:
        cache.delete(key)  # the list stays; pages read when to ask again from the row
    else:
        cache.set(key, (pairs, next_refresh_at), _cache_seconds(pairs))


def _max_age() -> timedelta:
    return timedelta(seconds=settings.FULFILLMENT_CARRIERS_CACHE_SECONDS)


def _retry_after() -> timedelta:
    return timedelta(seconds=settings.FULFILLMENT_CARRIERS_RETRY_SECONDS)


def refresh_due(*, limit: int) -> list[tuple[int, int]]:
    """Beat: claim up to ``limit`` connected, active channels whose list is missing or due, the
    longest waiting first, and queue their refreshes (after commit). The claim moves a
    channel's next refresh a retry period ahead, so a refresh still in the queue is not queued
    again by the next tick. Returns [(tenant id, channel id)] queued."""
    now = timezone.now()
    claim_until = now + _retry_after()
    with scopes_disabled(), transaction.atomic():
        due = list(
            SalesChannel.objects.pollable()
            .filter(
                Q(fulfillment_carriers__isnull=True)
                | Q(fulfillment_carriers__next_refresh_at__lte=now)
            )
            .order_by(F("fulfillment_carriers__next_refresh_at").asc(nulls_first=True), "pk")
            .values_list("tenant_id", "pk")[:limit]
        )
        ChannelCarriers.objects.bulk_create(
            [
                ChannelCarriers(
                    tenant_id=tenant_id, channel_id=channel_id, next_refresh_at=claim_until
                )
                for tenant_id, channel_id in due
            ],
            update_conflicts=True,
            unique_fields=["tenant", "channel"],
            update_fields=["next_refresh_at"],
        )
        for tenant_id, channel_id in due:
            transaction.on_commit(partial(_dispatch, tenant_id, channel_id))
    return due


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
