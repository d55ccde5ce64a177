"""The import of a channel's offers from Allegro (docs/adr/0015-offer-import.md).

* **Sweep** (``start_offer_sweep`` → ``sweep_page`` per task): every offer of
  ``GET /sale/offers`` in pages of 1000, all publication statuses. Each page is one bulk upsert
  (``INSERT … ON CONFLICT (tenant, channel, external_id) DO UPDATE``) in one transaction with
  the sweep's progress, so a task that dies resumes at the page it was on. The events cursor is
  taken before the first page, so nothing that changes during the sweep is missed. At the end,
  offers the sweep did not see are read again by id; those Allegro no longer has get
  ``removed_at`` (kept for the orders that sold them).
* **Offer events** (``poll_offer_events``, beat every CATALOG_OFFER_EVENTS_SECONDS): events
  name offers, not their new stock or price, so the offers they name are read again through
  the listing (``offer.id`` filters, 100 a request); OFFER_ARCHIVED removes the offer. Allegro
  keeps events 24 h: a channel not read for that long, or whose cursor is refused and cannot be
  replayed from the oldest kept event, falls back to a sweep (reason ``cursor_expired``).
* **EAN**: the listing carries none. The offer's product set (``/sale/product-offers/{id}``)
  is read for offers whose EAN was never read (or whose offer changed since), at most
  CATALOG_OFFER_EAN_READS_PER_PAGE per page of a sweep or of events.
* After each committed page the page's offers go to ``catalog.services.linking.link_offers``.

No Allegro call runs inside a transaction; every write is keyed on the tenant's unique
constraint, so sweeps, events and retries interleave without duplicates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import ChannelCatalogState, Offer, SweepReason, SweepState
from catalog.services import linking
from channels.clients.allegro import (
    OFFER_IDS_PER_REQUEST,
    OFFERS_PAGE_LIMIT,
    AllegroClient,
    AllegroError,
    AllegroOffer,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
    UnknownEnvironment,
)
from channels.models import SalesChannel
from channels.services.api import call_batch, client_for, on_behalf
from core.errors import UserError
from core.locking import lock_name, try_lock
from core.tasks import dispatch_after_commit

logger = logging.getLogger("catalog.offers")

# Allegro keeps offer events this long; a channel last read longer ago (less a margin for the
# two clocks) may have missed some.
EVENTS_RETENTION = timedelta(hours=24)
EVENTS_RETENTION_MARGIN = timedelta(minutes=15)
EVENTS_PAGE_LIMIT = 1000
# Events that change what the catalogue keeps of an offer (bids, translations, visibility and
# blocked countries do not).
REREAD_EVENTS = frozenset(
    {
        "OFFER_ACTIVATED",
        "OFFER_CHANGED",
        "OFFER_ENDED",
        "OFFER_STOCK_CHANGED",
        "OFFER_PRICE_CHANGED",
    }
)
ARCHIVED_EVENT = "OFFER_ARCHIVED"
# The listing's columns an upsert overwrites (never the EAN, the product link or first_seen_at).
LISTING_FIELDS = [
    "name",
    "status",
    "price",
    "currency",
    "stock_available",
    "sku",
    "category_id",
    "image_url",
    "url",
    "last_seen_at",
    "removed_at",
    "updated_at",
]
# A retry of a failed page or poll after an error Allegro may get over.
TRANSIENT_RETRY_SECONDS = 30.0

SWEEP_TASK = "catalog.tasks.sweep_offers_page"


@dataclass(frozen=True)
class Step:
    """What a sweep page or an events poll asks its task to do next: ``again`` at once (more
    pages), after ``retry_in`` seconds (an error Allegro may get over), or nothing."""

    again: bool = False
    retry_in: float | None = None


DONE = Step()


# --------------------------------------------------------------------------- state
def catalog_state(channel: SalesChannel) -> ChannelCatalogState:
    state, _created = ChannelCatalogState.objects.get_or_create(
        tenant_id=channel.tenant_id, channel=channel
    )
    return state


def _locked_state(channel_id: int) -> ChannelCatalogState | None:
    return ChannelCatalogState.objects.select_for_update().filter(channel_id=channel_id).first()


def start_offer_sweep(channel: SalesChannel, reason: str) -> bool:
    """Start a full sweep of the channel's offers (a new run: a task of an older run stops).
    False, and nothing started, when one is already running and alive (a click on "Import
    offers" while it runs, a second fallback)."""
    catalog_state(channel)
    now = timezone.now()
    with transaction.atomic():
        state = _locked_state(channel.pk)
        assert state is not None
        stale = now - timedelta(seconds=settings.CATALOG_SWEEP_STALE_SECONDS)
        if (
            state.sweep_state == SweepState.RUNNING
            and state.sweep_heartbeat_at is not None
            and state.sweep_heartbeat_at > stale
        ):
            return False
        state.sweep_run += 1
        state.sweep_state = SweepState.RUNNING
        state.sweep_reason = reason
        state.sweep_total = 0
        state.sweep_done = 0
        state.sweep_offset = 0
        state.sweep_started_at = now
        state.sweep_finished_at = None
        state.sweep_heartbeat_at = now
        state.last_error = ""
        state.save()
        dispatch_after_commit(SWEEP_TASK, channel.tenant_id, channel.pk, state.sweep_run)
    logger.info("offer sweep %s of channel %s started (%s)", state.sweep_run, channel.pk, reason)
    return True


def start_first_sweep(channel: SalesChannel) -> bool:
    """channels.signals.channel_connected: a channel that never imported its offers (or whose
    first sweep failed before its first page) does now."""
    state = catalog_state(channel)
    never = state.sweep_state == SweepState.NEVER or (
        state.sweep_state == SweepState.FAILED and state.events_checked_at is None
    )
    return never and start_offer_sweep(channel, SweepReason.FIRST)


# --------------------------------------------------------------------------- upserts
def _rows(channel: SalesChannel, offers: Iterable[AllegroOffer], seen: datetime) -> list[Offer]:
    client = client_for(channel)
    by_id: dict[str, Offer] = {}
    for offer in offers:  # a page that repeats an offer (listing shifted) upserts it once
        by_id[offer.id] = Offer(
            tenant_id=channel.tenant_id,
            channel=channel,
            external_id=offer.id,
            name=offer.name,
            status=offer.status,
            price=offer.price,
            currency=offer.currency,
            stock_available=offer.stock_available,
            sku=offer.sku,
            category_id=offer.category_id,
            image_url=offer.image_url,
            url=client.offer_url(offer.id),
            first_seen_at=seen,
            last_seen_at=seen,
            removed_at=None,
            updated_at=seen,
        )
    return list(by_id.values())


def upsert_offers(
    channel: SalesChannel, offers: Sequence[AllegroOffer], seen: datetime
) -> list[int]:
    """Store the offers as the listing showed them (one statement); their ids. An offer whose
    SKU changed keeps its row and its product link (linking decides about the link)."""
    rows = _rows(channel, offers, seen)
    if not rows:
        return []
    stored = Offer.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["tenant", "channel", "external_id"],
        update_fields=LISTING_FIELDS,
    )
    return [row.pk for row in stored]


def _mark_removed(channel: SalesChannel, external_ids: Iterable[str], at: datetime) -> list[int]:
    ids = list(
        Offer.objects.filter(
            channel=channel, external_id__in=list(external_ids), removed_at__isnull=True
        ).values_list("pk", flat=True)
    )
    if ids:
        Offer.objects.filter(pk__in=ids).update(removed_at=at, updated_at=at)
    return ids


def _read_by_ids(channel: SalesChannel, external_ids: Sequence[str]) -> dict[str, AllegroOffer]:
    """The offers Allegro still lists among these ids (any status), by id."""
    found: dict[str, AllegroOffer] = {}
    for start in range(0, len(external_ids), OFFER_IDS_PER_REQUEST):
        batch = list(external_ids[start : start + OFFER_IDS_PER_REQUEST])
        page = on_behalf(
            channel, AllegroClient.list_offers, offer_ids=batch, limit=OFFERS_PAGE_LIMIT
        )
        found.update({offer.id: offer for offer in page.offers})
    return found


def read_eans(channel: SalesChannel, offer_ids: Sequence[int]) -> int:
    """Read the EAN of those of the offers whose EAN was never read (at most
    CATALOG_OFFER_EAN_READS_PER_PAGE of them); how many got one. A read Allegro refuses for an
    offer leaves the offer for a later sweep."""
    limit = settings.CATALOG_OFFER_EAN_READS_PER_PAGE
    if limit <= 0 or not offer_ids:
        return 0
    todo = list(
        Offer.objects.filter(
            pk__in=list(offer_ids), ean="", ean_checked_at__isnull=True, removed_at__isnull=True
        )
        .order_by("pk")
        .values_list("pk", "external_id")[:limit]
    )
    found = 0
    for pk, external_id in todo:
        try:
            gtin = on_behalf(channel, AllegroClient.get_offer_gtin, external_id)
        except AllegroPermanentError as exc:
            logger.info("EAN of offer %s unreadable: %s", external_id, exc)
            continue
        now = timezone.now()
        Offer.objects.filter(pk=pk).update(ean=gtin[:64], ean_checked_at=now)
        found += bool(gtin)
    return found


def _link(channel: SalesChannel, offer_ids: list[int]) -> None:
    if offer_ids:
        linking.link_offers(channel.tenant_id, offer_ids)


# --------------------------------------------------------------------------- sweep
def _failure(channel_id: int, run: int | None, exc: Exception) -> Step:
    """A sweep page or poll that Allegro refused: transient errors retry, the rest fail the
    sweep with a reason the channel page shows."""
    if isinstance(exc, AllegroRateLimited):
        return Step(retry_in=max(1.0, exc.retry_after))
    if isinstance(exc, AllegroTransientError):
        return Step(retry_in=TRANSIENT_RETRY_SECONDS)
    message = (exc.user_message if isinstance(exc, AllegroError) else "") or str(exc)
    with transaction.atomic():
        state = _locked_state(channel_id)
        if state is not None:
            state.last_error = message[:500]
            if run is not None and state.sweep_run == run:
                state.sweep_state = SweepState.FAILED
                state.sweep_finished_at = timezone.now()
            state.save()
    logger.warning("offer import of channel %s failed: %s", channel_id, message)
    return DONE


def _events_head(channel: SalesChannel, cursor: str) -> str:
    """The newest offer event's id (the cursor a sweep leaves for the events poll), from
    ``cursor`` on; from the oldest kept when the cursor is refused."""
    head = cursor
    while True:
        try:
            events = on_behalf(
                channel, AllegroClient.list_offer_events, after=head, limit=EVENTS_PAGE_LIMIT
            )
        except AllegroPermanentError:
            if not head:
                raise
            head = ""
            continue
        if events:
            head = events[-1].id
        if len(events) < EVENTS_PAGE_LIMIT:
            return head


def sweep_page(channel_id: int, run: int) -> Step:
    """One page of the sweep ``run`` of the channel; ``Step(again=True)`` when another follows.
    A task of an older run, or one behind another task of the same run, does nothing."""
    state = ChannelCatalogState.objects.filter(channel_id=channel_id).first()
    if state is None or state.sweep_run != run or state.sweep_state != SweepState.RUNNING:
        return DONE
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.is_connected:
        return _failure(channel_id, run, RuntimeError("The channel is not connected."))
    offset = state.sweep_offset
    try:
        with call_batch():
            cursor = _events_head(channel, state.events_cursor) if offset == 0 else None
            page = on_behalf(
                channel, AllegroClient.list_offers, offset=offset, limit=OFFERS_PAGE_LIMIT
            )
    except (AllegroError, UnknownEnvironment) as exc:
        return _failure(channel_id, run, exc)
    now = timezone.now()
    with transaction.atomic():
        state = _locked_state(channel_id)
        if (
            state is None
            or state.sweep_run != run
            or state.sweep_state != SweepState.RUNNING
            or state.sweep_offset != offset
        ):
            return DONE
        ids = upsert_offers(channel, page.offers, now)
        state.sweep_offset = offset + page.received
        state.sweep_done += len(page.offers)
        state.sweep_total = max(page.total_count or 0, state.sweep_done)
        state.sweep_heartbeat_at = now
        if cursor is not None:
            state.events_cursor = cursor
            state.events_checked_at = now
        last = page.received < OFFERS_PAGE_LIMIT or (
            page.total_count is not None and state.sweep_offset >= page.total_count
        )
        state.save()
    try:
        with call_batch():
            read_eans(channel, ids)
    except (AllegroError, UnknownEnvironment) as exc:  # the next sweep reads them
        logger.info("EANs of channel %s not read: %s", channel_id, exc)
    _link(channel, ids)
    if not last:
        return Step(again=True)
    return _finish_sweep(channel, run)


def _front_pages(channel: SalesChannel, started: datetime) -> list[AllegroOffer]:
    """The listing's front again: offers made while the sweep ran come first (newest first) in
    pages it had already read. Read until a page holds an offer this sweep saw."""
    fresh: list[AllegroOffer] = []
    offset = 0
    while True:
        page = on_behalf(channel, AllegroClient.list_offers, offset=offset, limit=OFFERS_PAGE_LIMIT)
        fresh += page.offers
        seen = Offer.objects.filter(
            channel=channel,
            external_id__in=[offer.id for offer in page.offers],
            last_seen_at__gte=started,
        ).exists()
        if seen or page.received < OFFERS_PAGE_LIMIT:
            return fresh
        offset += page.received


def _finish_sweep(channel: SalesChannel, run: int) -> Step:
    """Offers made while the sweep ran are read from the listing's front; offers the sweep did
    not see are read again by id (a listing that shifted while it was paged skips some); those
    Allegro no longer has are removed."""
    state = ChannelCatalogState.objects.filter(channel_id=channel.pk).first()
    if state is None or state.sweep_run != run or state.sweep_started_at is None:
        return DONE
    try:
        with call_batch():
            fresh = _front_pages(channel, state.sweep_started_at)
    except (AllegroError, UnknownEnvironment) as exc:
        return _failure(channel.pk, run, exc)
    with transaction.atomic():
        state = _locked_state(channel.pk)
        if state is None or state.sweep_run != run or state.sweep_state != SweepState.RUNNING:
            return DONE
        fresh_ids = upsert_offers(channel, fresh, timezone.now())
    _link(channel, fresh_ids)
    assert state.sweep_started_at is not None
    unseen = list(
        Offer.objects.filter(
            channel=channel, removed_at__isnull=True, last_seen_at__lt=state.sweep_started_at
        ).values_list("external_id", flat=True)
    )
    try:
        with call_batch():
            found = _read_by_ids(channel, unseen) if unseen else {}
    except (AllegroError, UnknownEnvironment) as exc:
        return _failure(channel.pk, run, exc)
    now = timezone.now()
    with transaction.atomic():
        state = _locked_state(channel.pk)
        if state is None or state.sweep_run != run or state.sweep_state != SweepState.RUNNING:
            return DONE
        ids = upsert_offers(channel, list(found.values()), now)
        _mark_removed(channel, [oid for oid in unseen if oid not in found], now)
        state.sweep_state = SweepState.DONE
        state.sweep_finished_at = now
        state.sweep_heartbeat_at = now
        state.sweep_total = state.sweep_done
        state.next_events_at = now
        state.save()
    _link(channel, ids)
    logger.info("offer sweep %s of channel %s done: %s offers", run, channel.pk, state.sweep_done)
    return DONE


# --------------------------------------------------------------------------- offer events
def _events_expired(state: ChannelCatalogState, now: datetime) -> bool:
    checked = state.events_checked_at
    return checked is None or checked < now - (EVENTS_RETENTION - EVENTS_RETENTION_MARGIN)


def poll_offer_events(channel_id: int) -> Step:
    """Apply the channel's new offer events (up to CATALOG_OFFER_EVENT_PAGES pages of 1000;
    ``again`` when more remain). A channel whose sweep runs (or never ran) is left alone: the
    sweep took the cursor before it began."""
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None or not channel.is_connected:
        return DONE
    with try_lock(lock_name("catalog:offer-events", channel.tenant_id, channel.pk)) as mine:
        if not mine:
            return DONE
        for _page in range(settings.CATALOG_OFFER_EVENT_PAGES):
            step = _events_page(channel)
            if not step.again:
                return step
        return Step(again=True)


# Sweep states whose channel's offer events are read: a failed sweep (after it took the
# cursor) does not stop them; the next sweep by hand or by expiry imports the rest.
POLLED_STATES = (SweepState.DONE, SweepState.FAILED)


def _events_page(channel: SalesChannel) -> Step:
    state = ChannelCatalogState.objects.filter(channel=channel).first()
    if state is None or state.sweep_state not in POLLED_STATES:
        return DONE
    now = timezone.now()
    if _events_expired(state, now):
        start_offer_sweep(channel, SweepReason.CURSOR_EXPIRED)
        return DONE
    cursor = state.events_cursor
    try:
        with call_batch():
            try:
                events = on_behalf(
                    channel,
                    AllegroClient.list_offer_events,
                    after=cursor,
                    limit=EVENTS_PAGE_LIMIT,
                )
            except AllegroPermanentError:
                if not cursor:
                    raise
                # Refused (Allegro no longer keeps that event). Read within the last 24 h, so
                # every event since is still kept: replay from the oldest one.
                logger.info("offer events cursor of channel %s refused: replayed", channel.pk)
                cursor = ""
                events = on_behalf(
                    channel, AllegroClient.list_offer_events, limit=EVENTS_PAGE_LIMIT
                )
            archived = {e.offer_id for e in events if e.type == ARCHIVED_EVENT and e.offer_id}
            changed = {e.offer_id for e in events if e.type == "OFFER_CHANGED" and e.offer_id}
            wanted = sorted(
                {e.offer_id for e in events if e.type in REREAD_EVENTS and e.offer_id} - archived
            )
            found = _read_by_ids(channel, wanted) if wanted else {}
    except (AllegroError, UnknownEnvironment) as exc:
        return _failure(channel.pk, None, exc)
    now = timezone.now()
    with transaction.atomic():
        state = _locked_state(channel.pk)
        if state is None or state.sweep_state not in POLLED_STATES:
            return DONE
        ids = upsert_offers(channel, list(found.values()), now)
        # Named by an event but no longer listed: archived or deleted on Allegro.
        _mark_removed(channel, archived | {oid for oid in wanted if oid not in found}, now)
        if changed:
            # The offer may name another product now: its EAN is read again.
            Offer.objects.filter(channel=channel, external_id__in=changed).update(
                ean="", ean_checked_at=None
            )
        if events:
            state.events_cursor = events[-1].id
            state.events_cursor_at = events[-1].occurred_at or now
        state.events_checked_at = now
        state.last_error = ""
        state.save()
    if changed:
        try:
            with call_batch():
                read_eans(channel, ids)
        except (AllegroError, UnknownEnvironment) as exc:
            logger.info("EANs of channel %s not read: %s", channel.pk, exc)
    _link(channel, ids)
    return Step(again=len(events) >= EVENTS_PAGE_LIMIT)


# --------------------------------------------------------------------------- beat
@dataclass(frozen=True)
class Due:
    tenant_id: int
    channel_id: int
    sweep_run: int | None  # a stalled sweep to resume, else None (events to poll)


def due_channels() -> list[Due]:
    """System query for beat (no tenant scope): connected channels whose offer events are due,
    and sweeps whose task stopped beating (a lost message, a killed worker)."""
    from django_scopes import scopes_disabled

    now = timezone.now()
    stale = now - timedelta(seconds=settings.CATALOG_SWEEP_STALE_SECONDS)
    with scopes_disabled():
        states = ChannelCatalogState.objects.filter(
            channel__is_active=True,
            channel__connection_state="connected",
        ).filter(
            Q(sweep_state=SweepState.DONE)
            | Q(sweep_state=SweepState.FAILED, events_checked_at__isnull=False)
            | Q(sweep_state=SweepState.RUNNING, sweep_heartbeat_at__lt=stale)
        )
        return [
            Due(
                s.tenant_id,
                s.channel_id,
                s.sweep_run if s.sweep_state == SweepState.RUNNING else None,
            )
            for s in states.only("tenant_id", "channel_id", "sweep_run", "sweep_state")
        ]


# --------------------------------------------------------------------------- reads for pages
@dataclass(frozen=True)
class OfferCounts:
    offers: int
    linked: int
    without_sku: int
    duplicate_sku: int
    removed: int


def offer_counts(channel: SalesChannel) -> OfferCounts:
    """The channel card's numbers (offers Allegro still has; removed ones apart)."""
    current = Offer.objects.filter(channel=channel, removed_at__isnull=True)
    totals = current.aggregate(
        offers=Count("pk"),
        linked=Count("pk", filter=Q(product__isnull=False)),
        without_sku=Count("pk", filter=Q(sku="")),
    )
    shared = (
        current.exclude(sku="")
        .values("sku")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("n", flat=True)
    )
    return OfferCounts(
        offers=totals["offers"],
        linked=totals["linked"],
        without_sku=totals["without_sku"],
        duplicate_sku=sum(shared),
        removed=Offer.objects.filter(channel=channel, removed_at__isnull=False).count(),
    )


@dataclass(frozen=True)
class ImportView:
    """The channel card's picture of the offer import."""

    state: ChannelCatalogState | None
    counts: OfferCounts
    running: bool
    percent: int
    fallback: bool  # the running or last sweep replaced expired offer events


def import_view(channel: SalesChannel) -> ImportView:
    state = ChannelCatalogState.objects.filter(channel=channel).first()
    running = state is not None and state.sweep_state == SweepState.RUNNING
    percent = 0
    if state is not None and state.sweep_total:
        percent = min(100, state.sweep_done * 100 // state.sweep_total)
    elif state is not None and state.sweep_state == SweepState.DONE:
        percent = 100
    return ImportView(
        state=state,
        counts=offer_counts(channel),
        running=running,
        percent=percent,
        fallback=state is not None and state.sweep_reason == SweepReason.CURSOR_EXPIRED,
    )


# --------------------------------------------------------------------------- by hand, lists
class OfferImportRefused(UserError):
    """ "Import offers" cannot start now."""


def import_offers_by_hand(channel: SalesChannel) -> None:
    """ "Import offers" on the channel page: a full sweep now."""
    if not channel.is_connected:
        raise OfferImportRefused(
            _("Connect the channel to Allegro first."), code="channel_not_connected"
        )
    if not start_offer_sweep(channel, SweepReason.MANUAL):
        raise OfferImportRefused(
            _("The offers of this channel are being imported already."),
            code="offer_import_running",
        )


OFFERS_PAGE_SIZE = 50


@dataclass(frozen=True)
class OfferFilters:
    query: str = ""
    channel_id: int | None = None
    status: str = ""
    linked: bool | None = None
    stock_zero: bool = False
    removed: bool = False  # the removed ones only (else: only those Allegro still has)


def filtered_offers(filters: OfferFilters) -> QuerySet[Offer]:
    """The tenant's offers (the scoped manager) narrowed by the list's search and filters."""
    qs = Offer.objects.select_related("channel", "product")
    qs = qs.filter(removed_at__isnull=not filters.removed)
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.linked is not None:
        qs = qs.filter(product__isnull=not filters.linked)
    if filters.stock_zero:
        qs = qs.filter(stock_available=0)
    text = filters.query.strip()
    if text:
        qs = qs.filter(
            Q(name__icontains=text) | Q(sku__iexact=text) | Q(ean=text) | Q(external_id=text)
        )
    return qs


def offers_page(qs: QuerySet[Offer], after: int | None) -> tuple[list[Offer], int | None]:
    """Keyset page (newest stored first): the offers with an id below ``after``, and the id
    the next page starts after (None on the last page)."""
    if after is not None:
        qs = qs.filter(pk__lt=after)
    rows = list(qs.order_by("-pk")[: OFFERS_PAGE_SIZE + 1])
    more = len(rows) > OFFERS_PAGE_SIZE
    rows = rows[:OFFERS_PAGE_SIZE]
    return rows, rows[-1].pk if more else None
