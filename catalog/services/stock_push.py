"""Sending the stock outbox: each offer's quantity command to Allegro, its outcome, the sweeper.

One sender per offer at a time (a lock per offer, released by PostgreSQL when a killed
worker's connection goes away). An offer's rows go through:

- ``pending``: waiting; a newer quantity updates it (one waiting row per offer).
- ``sent``: claimed, so its quantity and command id are fixed; the PUT of the command is made
  after the claim commits. Its ``next_attempt_at`` is when to look again: read the command
  (unknown to Allegro: the PUT never arrived, sent again with the same id and body, unless a
  newer quantity waits — then it is ``superseded``, not sent), wait while it runs.
- ``done``: Allegro applied it; ``failed``: Allegro refused it for the offer (its reason kept,
  e.g. the offer ended); nothing else is lost: a newer change writes a new row.

A waiting row is not sent while an older command of the offer is in flight, so Allegro gets
an offer's quantities in order. A channel authorized without ``allegro:api:sale:offers:write``
keeps its rows waiting with the code ``scope_missing`` until the account is authorized again.
Must run outside any transaction (HTTP calls are made).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_scopes import scopes_disabled

from catalog.models import ChannelCatalogState, Offer, OfferStockPush, StockPushState
from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroConflict,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
    QuantityCommandReport,
    UnknownEnvironment,
    get_quantity_command,
    list_quantity_tasks,
    missing_stock_scopes,
    set_offer_quantity,
)
from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.api import on_behalf
from core.locking import lock_name, try_lock
from core.tasks import dispatch_after_commit

logger = logging.getLogger("catalog.stock_push")

PUSH_TASK = "catalog.tasks.push_offer_stock"
# Error codes on a row (the product page says them in words: catalog.views_stock).
SCOPE_MISSING = "scope_missing"
NOT_CONNECTED = "not_connected"
TRANSIENT = "transient"
RATE_LIMITED = "rate_limited"
REFUSED = "refused"
PUSH_OFF = "push_off"


@dataclass
class OfferResult:
    """What one run did for an offer (for tasks and tests)."""

    busy: bool = False
    sent: int = 0
    done: int = 0
    failed: int = 0
    superseded: int = 0
    # Seconds until the offer should be looked at again, or None.
    retry_in: float | None = None


def _lock_key(tenant_id: int, offer_id: int) -> str:
    return lock_name("catalog:stock-push", tenant_id, offer_id)


def _backoff(attempts: int) -> float:
    base = settings.STOCK_PUSH_RETRY_BASE_SECONDS * (2 ** max(0, attempts - 1))
    return min(settings.STOCK_PUSH_RETRY_MAX_SECONDS, base) * random.uniform(0.8, 1.2)


def _later(seconds: float) -> datetime:
    return timezone.now() + timedelta(seconds=seconds)


def _note(push_id: int, **fields: object) -> None:
    OfferStockPush.objects.filter(pk=push_id).update(**fields)


def process_offer(tenant_id: int, offer_id: int) -> OfferResult:
    """Send what is due of one offer's stock rows. Inside the tenant's scope, outside any
    transaction."""
    result = OfferResult()
    with try_lock(_lock_key(tenant_id, offer_id)) as mine:
        if not mine:
            result.busy = True
            return result
        offer = (
            Offer.objects.filter(tenant_id=tenant_id, pk=offer_id).select_related("channel").first()
        )
        if offer is None:
            return result
        _run(offer, result)
    return result


def _open_rows(offer: Offer) -> list[OfferStockPush]:
    return list(
        OfferStockPush.objects.filter(
            tenant_id=offer.tenant_id,
            offer_id=offer.pk,
            state__in=[StockPushState.PENDING, StockPushState.SENT],
        ).order_by("id")
    )


def _blocked(offer: Offer) -> tuple[str, float] | None:
    """Why nothing of the channel can be sent now (code, seconds until the next look)."""
    channel: SalesChannel = offer.channel
    if not ChannelCatalogState.objects.filter(
        tenant_id=offer.tenant_id, channel_id=channel.pk, stock_push_enabled=True
    ).exists():
        return PUSH_OFF, settings.STOCK_PUSH_SCOPE_RETRY_SECONDS
    credential = AllegroCredential.objects.filter(channel_id=channel.pk).first()
    if credential is None or channel.connection_state != ConnectionState.CONNECTED:
        return NOT_CONNECTED, settings.STOCK_PUSH_SCOPE_RETRY_SECONDS
    if missing_stock_scopes(credential.scopes):
        return SCOPE_MISSING, settings.STOCK_PUSH_SCOPE_RETRY_SECONDS
    return None


def _run(offer: Offer, result: OfferResult) -> None:
    now = timezone.now()
    rows = _open_rows(offer)
    if not rows:
        return
    blocked = _blocked(offer)
    if blocked is not None:
        code, seconds = blocked
        for row in rows:
            _note(row.pk, error_code=code, next_attempt_at=_later(seconds))
        return
    sent = [r for r in rows if r.state == StockPushState.SENT]
    pending = [r for r in rows if r.state == StockPushState.PENDING]
    for row in sent:
        if row.next_attempt_at > now:
            result.retry_in = _soonest(result.retry_in, (row.next_attempt_at - now).total_seconds())
            return  # another sender's lease, or not time to look yet
        if not _follow(offer, row, result, newer_waiting=bool(pending)):
            return  # still in flight: the waiting row goes after it
    for row in pending:
        if row.attempts and row.next_attempt_at > now:
            result.retry_in = _soonest(result.retry_in, (row.next_attempt_at - now).total_seconds())
            return
        claimed = _claim(row)
        if claimed is not None:
            _put(offer, claimed, result)


def _soonest(current: float | None, seconds: float) -> float:
    seconds = max(0.2, seconds)
    return seconds if current is None else min(current, seconds)


def _claim(row: OfferStockPush) -> OfferStockPush | None:
    """pending → sent, in a transaction of its own: from here on the quantity and the command
    id are the command's (a newer change writes a new row). The lease: nobody looks at the row
    before ``next_attempt_at``."""
    with transaction.atomic():
        locked = (
            OfferStockPush.objects.select_for_update()
            .filter(pk=row.pk, state=StockPushState.PENDING)
            .first()
        )
        if locked is None:
            return None
        now = timezone.now()
        locked.state = StockPushState.SENT
        locked.attempts += 1
        locked.sent_at = now
        locked.next_attempt_at = now + timedelta(seconds=settings.STOCK_PUSH_LEASE_SECONDS)
        locked.error_code = ""
        locked.error_detail = ""
        locked.save(
            update_fields=[
                "state",
                "attempts",
                "sent_at",
                "next_attempt_at",
                "error_code",
                "error_detail",
            ]
        )
    return locked


def _put(offer: Offer, row: OfferStockPush, result: OfferResult) -> None:
    """Send the row's command (again, with the same id and body, when it was sent before)."""
    try:
        on_behalf(
            offer.channel,
            set_offer_quantity,
            str(row.command_id),
            [offer.external_id],
            row.quantity,
        )
    except AllegroConflict:
        # The id is known to Allegro with this body (Allegro answers 409 to a repeated PUT):
        # the command arrived; its result is read below.
        pass
    except AllegroError as exc:
        _problem(row, exc, result)
        return
    except UnknownEnvironment:
        _retry(row, NOT_CONNECTED, "", settings.STOCK_PUSH_SCOPE_RETRY_SECONDS, result)
        return
    result.sent += 1
    check = settings.STOCK_PUSH_CHECK_SECONDS
    _note(row.pk, next_attempt_at=_later(check), error_code="", error_detail="")
    result.retry_in = _soonest(result.retry_in, check)


def _retry(
    row: OfferStockPush, code: str, detail: str, seconds: float, result: OfferResult
) -> None:
    _note(
        row.pk,
        error_code=code,
        error_detail=detail[:500],
        next_attempt_at=_later(seconds),
        attempts=F("attempts") + 1,
    )
    result.retry_in = _soonest(result.retry_in, seconds)


def _problem(row: OfferStockPush, exc: AllegroError, result: OfferResult) -> None:
    """A PUT or read that did not get through: try again later, or say why not."""
    if isinstance(exc, AllegroRateLimited):
        _retry(row, RATE_LIMITED, "", exc.retry_after, result)
    elif isinstance(exc, AllegroTransientError):
        _retry(row, TRANSIENT, str(exc), _backoff(row.attempts), result)
    elif isinstance(exc, AllegroAuthRevoked):
        _retry(row, NOT_CONNECTED, "", settings.STOCK_PUSH_SCOPE_RETRY_SECONDS, result)
    elif isinstance(exc, AllegroPermanentError) and exc.status == 403:
        _retry(
            row, SCOPE_MISSING, exc.user_message, settings.STOCK_PUSH_SCOPE_RETRY_SECONDS, result
        )
    elif isinstance(exc, AllegroPermanentError):
        _finish(row, StockPushState.FAILED, REFUSED, exc.user_message or str(exc))
        result.failed += 1
    else:
        _retry(row, TRANSIENT, str(exc), _backoff(row.attempts), result)


def _finish(row: OfferStockPush, state: str, code: str = "", detail: str = "") -> None:
    _note(
        row.pk,
        state=state,
        error_code=code,
        error_detail=detail[:500],
        finished_at=timezone.now(),
    )


def _follow(offer: Offer, row: OfferStockPush, result: OfferResult, *, newer_waiting: bool) -> bool:
    """Look at a sent row's command. True when the row is finished (done, failed, superseded),
    False while it is in flight or could not be read."""
    try:
        report: QuantityCommandReport | None = on_behalf(
            offer.channel, get_quantity_command, str(row.command_id)
        )
        if report is None:
            if newer_waiting:
                _finish(row, StockPushState.SUPERSEDED)
                result.superseded += 1
                return True
            _put(offer, row, result)
            return False
        if not report.completed:
            check = settings.STOCK_PUSH_CHECK_SECONDS
            _note(row.pk, next_attempt_at=_later(check))
            result.retry_in = _soonest(result.retry_in, check)
            return False
        tasks = on_behalf(offer.channel, list_quantity_tasks, str(row.command_id))
    except AllegroError as exc:
        _problem(row, exc, result)
        return False
    except UnknownEnvironment:
        _retry(row, NOT_CONNECTED, "", settings.STOCK_PUSH_SCOPE_RETRY_SECONDS, result)
        return False
    mine = [t for t in tasks if t.offer_id == offer.external_id]
    if (mine and mine[0].status == "SUCCESS") or (not mine and report.failed == 0):
        _finish(row, StockPushState.DONE)
        result.done += 1
    else:
        reason = mine[0].message if mine else ""
        _finish(row, StockPushState.FAILED, REFUSED, reason)
        result.failed += 1
    return True


# --------------------------------------------------------------------------- the sweeper
def due_offers(limit: int | None = None) -> list[tuple[int, int]]:
    """(tenant, offer) of rows that are due: waiting a lease longer than planned (the broker
    lost the task, a sender died before the claim, the channel could not send), or sent and
    due for a look (a retry, a command to read, a sender that died after the claim). A system
    query across tenants."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STOCK_PUSH_LEASE_SECONDS)
    with scopes_disabled():
        rows = (
            OfferStockPush.objects.filter(
                Q(state=StockPushState.SENT, next_attempt_at__lte=now)
                | Q(state=StockPushState.PENDING, next_attempt_at__lte=stale)
            )
            .order_by("next_attempt_at")
            .values_list("tenant_id", "offer_id")[: limit or settings.STOCK_PUSH_SWEEP_BATCH]
        )
        return list(dict.fromkeys(rows))


def sweep() -> int:
    """Dispatch a sender for every offer with a due row. Returns how many."""
    offers = due_offers()
    for tenant_id, offer_id in offers:
        dispatch_after_commit(PUSH_TASK, tenant_id, offer_id)
    return len(offers)
