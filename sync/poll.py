"""The journal poll: orders in from Allegro's order journal, one account at a time
(docs/adr/0003-order-sync.md).

A poll of one channel:

1. takes the channel's *poll lock* — a PostgreSQL session-level advisory lock keyed by
   (tenant, channel), tried without waiting: a second poll of the same account returns
   ``skipped`` at once. The lock belongs to the database connection, so a worker killed mid-poll
   (SIGKILL, OOM, lost machine) releases it when PostgreSQL drops the connection;
2. bootstraps the cursor from ``/order/event-stats`` the first time it sees the account (REFERENCE
   §7.5) — and never again: afterwards the cursor is only ever the id of the last event processed
   (§7.1). The first bootstrap also schedules the backfill of the channel's ``backfill_days``;
3. reads ``/order/events`` after the cursor, collects the distinct checkout-form ids, re-reads
   every form (never trusting event snapshots; a 404 is a merged or removed purchase), and in
   **one transaction** upserts the orders (orders.ingest) and moves the cursor to the last event
   whose form was read. A crash before the commit replays the events; after it, skips nothing;
4. sets aside a form Allegro answers 5xx for (after the retries) instead of stopping at it:
   Allegro has served 500 for single orders for hours while serving the rest. The form goes to
   ``StuckCheckoutForm`` in the same transaction and the cursor moves past it; every poll then
   retries the due ones on their own (exponential backoff up to
   ``SYNC_STUCK_RETRY_MAX_SECONDS``), the reconciliation sweeps pick them up through the list
   endpoint, and a 404 takes one off the list. At most ``SYNC_SET_ASIDE_MAX_PER_POLL`` are set
   aside in one poll: more means Allegro is failing broadly, and the poll stops there;
5. ends on a 429 or a network error (the cursor stays where the last commit put it), after
   ``SYNC_POLL_MAX_SECONDS``, or when the journal is drained, and schedules the account's next
   poll: busy accounts again after the poll plan's busy interval (sync/schedule.py: what the
   deployment's Allegro budget allows), idle ones ever later up to the plan's idle ceiling,
   failing ones with exponential backoff, rate-limited ones when the block ends.

Calls to Allegro never happen inside a transaction (sync/runkit.py); each committed batch holds
the sync-state row lock only for its database writes. The beat tick that decides which account
is due is sync/schedule.py; the search for merged purchases is sync/merges.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroError,
    AllegroMalformedResponse,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
    JournalEvent,
)
from channels.models import SalesChannel
from orders.ingest import Outcome, mark_order_merged, upsert_orders_from_checkout_forms
from sync import merges
from sync.backfill import start_backfill_locked
from sync.models import BackfillState, ChannelSyncState, PollOutcome, StuckCheckoutForm
from sync.runkit import (
    GONE_TEXT,
    Meter,
    allegro_get,
    ensure_state,
    error_in_words,
    forget_stuck_forms,
    lock_state,
    record_bad_forms,
    try_lock,
)
from sync.schedule import current_plan

logger = logging.getLogger(__name__)

# The concurrency test switches the poll lock off to show what it prevents.
_LOCK_POLL = True


class CursorMoved(Exception):
    """The cursor changed under a poll (only possible without the poll lock)."""


@contextmanager
def _poll_lock(channel: SalesChannel) -> Iterator[bool]:
    if not _LOCK_POLL:
        yield True
        return
    with try_lock("poll", channel.tenant_id, channel.pk) as acquired:
        yield acquired


# --------------------------------------------------------------------------- poll
@dataclass
class PollResult:
    status: str  # done | partial | skipped | not_pollable | rate_limited | failed
    events: int = 0
    forms: int = 0
    created: int = 0
    updated: int = 0
    failed_forms: int = 0
    gone_forms: int = 0
    set_aside: int = 0  # forms of the journal Allegro could not serve, set aside
    retried: int = 0  # set-aside forms asked for again
    unstuck: int = 0  # set-aside forms that left the list (served, or gone)
    requests: int = 0
    cursor: str = ""
    error: str = ""


@dataclass
class _Fetched:
    forms: dict[str, Any] = field(default_factory=dict)  # form id -> form (in order read)
    gone: list[str] = field(default_factory=list)  # 404: merged or removed
    problems: list[tuple[str, str]] = field(default_factory=list)
    merges: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id)
    unreadable: list[tuple[str, int]] = field(default_factory=list)  # (id, 5xx status): set aside
    stopped_at: str | None = None  # id of the first form we could not read (transient)
    error: AllegroError | None = None
    # When the first form was asked for (orders.ingest: a form read before our own push
    # reached Allegro does not undo it).
    fetched_at: datetime | None = None


def poll_channel(channel_id: int) -> PollResult:
    """Poll one channel (the caller has entered its tenant's scope). See the module docstring."""
    channel = SalesChannel.objects.select_related("tenant").filter(pk=channel_id).first()
    if channel is None or not SalesChannel.objects.pollable().filter(pk=channel_id).exists():
        return PollResult("not_pollable")
    with _poll_lock(channel) as acquired:
        if not acquired:
            return PollResult("skipped")
        return _poll_locked(channel)


def _poll_locked(channel: SalesChannel) -> PollResult:
    state = ensure_state(channel)
    meter = Meter()
    result = PollResult("done", cursor=state.cursor)
    started = timezone.now()
    ChannelSyncState.objects.filter(pk=state.pk).update(last_poll_started_at=started)
    deadline = time.monotonic() + settings.SYNC_POLL_MAX_SECONDS
    page_size = max(1, min(1000, settings.SYNC_EVENTS_PAGE_SIZE))
    more = False
    error: BaseException | None = None
    try:
        if state.cursor_bootstrapped_at is not None and state.cursor_account not in (
            "",
            account_of(channel),
        ):
            forget_account(state)
        if state.cursor_bootstrapped_at is None:
            bootstrap_cursor(channel, state, meter)
        while True:
            events = allegro_get(
                channel,
                meter,
                AllegroClient.list_order_events,
                after=state.cursor,
                limit=page_size,
            )
            more = len(events) >= page_size
            if not events:
                break
            for chunk in _chunks(events, settings.SYNC_FORMS_PER_BATCH):
                allowance = max(0, settings.SYNC_SET_ASIDE_MAX_PER_POLL - result.set_aside)
                fetched = _fetch_forms(channel, _form_ids(chunk), meter, set_aside_left=allowance)
                processed = _processable(chunk, fetched.stopped_at)
                if processed:
                    _commit(channel, state, processed, fetched, result)
                if fetched.error is not None:
                    raise fetched.error
            if not more or time.monotonic() >= deadline:
                break
        retry_stuck_forms(channel, state, meter, result)
    except (AllegroError, CursorMoved) as exc:
        error = exc
    except Exception as exc:
        logger.exception("Poll of channel %s failed", channel.pk)
        error = exc
        _finish(state, result, meter, started, error, more=False)
        raise
    _finish(state, result, meter, started, error, more=more)
    return result


def _chunks(events: list[JournalEvent], forms_per_chunk: int) -> Iterator[list[JournalEvent]]:
    """Consecutive runs of events covering at most ``forms_per_chunk`` distinct forms."""
    chunk: list[JournalEvent] = []
    seen: set[str] = set()
    for event in events:
        form_id = event.checkout_form_id
        if form_id and form_id not in seen and len(seen) >= forms_per_chunk:
            yield chunk
            chunk, seen = [], set()
        if form_id:
            seen.add(form_id)
        chunk.append(event)
    if chunk:
        yield chunk


def _form_ids(events: list[JournalEvent]) -> list[str]:
    """The distinct checkout forms the events name, in order of first appearance."""
    form_ids: list[str] = []
    for event in events:
        if event.checkout_form_id and event.checkout_form_id not in form_ids:
            form_ids.append(event.checkout_form_id)
    return form_ids


def _processable(chunk: list[JournalEvent], stopped_at: str | None) -> list[JournalEvent]:
    """The events before the first one whose form could not be read."""
    if stopped_at is None:
        return chunk
    out = []
    for event in chunk:
        if event.checkout_form_id == stopped_at:
            break
        out.append(event)
    return out


def _fetch_forms(
    channel: SalesChannel, form_ids: list[str], meter: Meter, *, set_aside_left: int = 0
) -> _Fetched:
    """Re-read every form (HTTP, outside any transaction). Up to ``set_aside_left`` forms
    answering 5xx are noted as unreadable and skipped; a form served malformed is noted as a
    problem like one Allegro refuses; any other failure to read (network, 429, revoked grant,
    a 5xx beyond the allowance) stops here."""
    fetched = _Fetched(fetched_at=timezone.now())
    for form_id in form_ids:
        try:
            form = allegro_get(channel, meter, AllegroClient.get_checkout_form, form_id)
        except (AllegroPermanentError, AllegroMalformedResponse) as exc:
            if exc.status == 404:
                fetched.gone.append(form_id)
            else:
                fetched.problems.append((form_id, error_in_words(exc)))
            continue
        except AllegroTransientError as exc:
            if (exc.status or 0) >= 500 and len(fetched.unreadable) < set_aside_left:
                fetched.unreadable.append((form_id, int(exc.status or 500)))
                continue
            fetched.stopped_at, fetched.error = form_id, exc
            break
        except (AllegroRateLimited, AllegroAuthRevoked) as exc:
            fetched.stopped_at, fetched.error = form_id, exc
            break
        fetched.forms[form_id] = form
    if not fetched.gone:
        return fetched
    # A 404: the purchase was merged into a new form (same line-item ids) or removed (§3.3).
    successors = merges.find_successors(
        channel, fetched.gone, fetched.forms, meter, may_search=fetched.error is None
    )
    fetched.forms.update(successors.found)
    fetched.merges = successors.merges
    fetched.problems += [(form_id, GONE_TEXT) for form_id in successors.not_found]
    if successors.stopped_at is not None:
        fetched.stopped_at = successors.stopped_at
        fetched.error = successors.error or fetched.error
    return fetched


def _commit(
    channel: SalesChannel,
    state: ChannelSyncState,
    events: list[JournalEvent],
    fetched: _Fetched,
    result: PollResult,
) -> None:
    """Upsert the forms of these events and move the cursor past them, in one transaction."""
    last = next((e for e in reversed(events) if e.id is not None), None)
    if last is None or last.id is None:
        return
    new_cursor = last.id
    ids = {e.checkout_form_id for e in events}
    with transaction.atomic():
        locked = lock_state(state.pk)
        if locked.cursor != state.cursor:
            raise CursorMoved(f"cursor moved from {state.cursor!r} to {locked.cursor!r}")
        set_aside = _store_batch(channel, locked, ids, fetched, result)
        result.set_aside += set_aside
        locked.cursor = new_cursor
        if last.occurred_at is not None:
            locked.last_event_occurred_at = last.occurred_at
        locked.cursor_advances = F("cursor_advances") + 1
        locked.events_processed = F("events_processed") + len(events)
        locked.save(
            update_fields=[
                "cursor",
                "last_event_occurred_at",
                "cursor_advances",
                "events_processed",
                "bad_forms",
                "bad_forms_total",
            ]
        )
    state.cursor = new_cursor
    result.cursor = new_cursor
    result.events += len(events)


def _store_batch(
    channel: SalesChannel,
    locked: ChannelSyncState,
    ids: set[str],
    fetched: _Fetched,
    result: PollResult,
) -> int:
    """Upsert the forms read for these form ids, link merged purchases, record the problems,
    set aside the forms Allegro could not serve and forget the set-aside ones it now served or
    no longer has. The caller holds the sync-state row lock (``locked``) and saves its
    bad-form fields. Returns how many forms were set aside."""
    forms = [form for form_id, form in fetched.forms.items() if form_id in ids]
    # A successor found by search belongs to this batch too (its merge is committed here).
    successors = [new for old, new in fetched.merges if old in ids and new not in ids]
    forms += [fetched.forms[new] for new in successors]
    problems = [p for p in fetched.problems if p[0] in ids]
    if forms:
        batch = upsert_orders_from_checkout_forms(channel, forms, fetched_at=fetched.fetched_at)
        result.created += len(batch.with_outcome(Outcome.CREATED))
        result.updated += len(batch.with_outcome(Outcome.UPDATED))
        failed = batch.with_outcome(Outcome.FAILED)
        result.failed_forms += len(failed)
        problems += [(r.external_id or "?", r.error or "could not be read") for r in failed]
    for old, new in fetched.merges:
        if old in ids:
            mark_order_merged(channel, old, new)
    gone = [g for g in fetched.gone if g in ids]
    result.gone_forms += len(gone)
    record_bad_forms(locked, problems)
    served = [form_id for form_id in fetched.forms if form_id in ids] + successors + gone
    result.unstuck += forget_stuck_forms(channel, served)
    unreadable = [(form_id, status) for form_id, status in fetched.unreadable if form_id in ids]
    set_forms_aside(channel, unreadable)
    result.forms += len(forms)
    return len(unreadable)


# --------------------------------------------------------------------------- stuck forms
def _stuck_backoff(attempts: int) -> timedelta:
    seconds = settings.SYNC_POLL_BUSY_SECONDS * 2 ** min(max(attempts - 1, 0), 20)
    return timedelta(seconds=min(settings.SYNC_STUCK_RETRY_MAX_SECONDS, seconds))


def set_forms_aside(channel: SalesChannel, unreadable: list[tuple[str, int]]) -> None:
    """Put the forms Allegro answered 5xx for on the channel's stuck list, or note one more
    failed attempt of those already there (caller holds the sync-state row lock)."""
    if not unreadable:
        return
    now = timezone.now()
    known = {
        row.form_id: row
        for row in StuckCheckoutForm.objects.filter(
            channel=channel, form_id__in=[form_id for form_id, _ in unreadable]
        )
    }
    new = []
    for form_id, status in unreadable:
        row = known.get(form_id)
        if row is None:
            new.append(
                StuckCheckoutForm(
                    tenant_id=channel.tenant_id,
                    channel=channel,
                    form_id=form_id[:64],
                    first_failed_at=now,
                    last_attempt_at=now,
                    last_status=status,
                    attempts=1,
                    next_retry_at=now + _stuck_backoff(1),
                )
            )
        else:
            StuckCheckoutForm.objects.filter(pk=row.pk).update(
                last_attempt_at=now,
                last_status=status,
                attempts=row.attempts + 1,
                next_retry_at=now + _stuck_backoff(row.attempts + 1),
            )
    if new:
        StuckCheckoutForm.objects.bulk_create(new)
        logger.warning(
            "Channel %s (tenant %s): Allegro cannot serve checkout forms %s; set aside",
            channel.pk,
            channel.tenant_id,
            ", ".join(row.form_id for row in new),
        )


def retry_stuck_forms(
    channel: SalesChannel, state: ChannelSyncState, meter: Meter, result: PollResult
) -> None:
    """Ask Allegro again for the set-aside forms that are due, each on its own: a served one is
    imported (normal ingest rules, exactly once) and leaves the list, a 404 leaves the list
    (merged away or removed: handled like a 404 in the journal), another 5xx waits longer. A
    network error, 429 or revoked grant ends the poll like one in the journal."""
    due = list(
        StuckCheckoutForm.objects.filter(channel=channel, next_retry_at__lte=timezone.now())
        .order_by("next_retry_at", "pk")
        .values_list("form_id", flat=True)[: settings.SYNC_STUCK_RETRIES_PER_POLL]
    )
    if not due:
        return
    fetched = _fetch_forms(channel, due, meter, set_aside_left=len(due))
    reached = due if fetched.stopped_at is None else due[: due.index(fetched.stopped_at)]
    result.retried += len(reached)
    if reached:
        with transaction.atomic():
            locked = lock_state(state.pk)
            _store_batch(channel, locked, set(reached), fetched, result)
            locked.save(update_fields=["bad_forms", "bad_forms_total"])
    if fetched.error is not None:
        raise fetched.error


def _finish(
    state: ChannelSyncState,
    result: PollResult,
    meter: Meter,
    started: datetime,
    error: BaseException | None,
    *,
    more: bool,
) -> None:
    """Record the poll's outcome and schedule the account's next poll."""
    now = timezone.now()
    busy = settings.SYNC_POLL_BUSY_SECONDS
    result.requests = meter.requests
    updates: dict[str, Any] = {
        "last_poll_at": now,
        "last_poll_events": result.events,
        "last_poll_orders": result.forms,
        "last_poll_requests": meter.requests,
    }
    if error is None:
        # The interval the deployment's budget allows (sync/schedule.py): the plan's busy one
        # after events, twice the last one after an empty poll, up to the plan's idle ceiling.
        plan = current_plan()
        interval = (
            plan.busy_seconds
            if result.events
            else min(
                plan.idle_max_seconds,
                max(plan.busy_seconds, state.poll_interval_seconds * 2),
            )
        )
        updates.update(
            last_poll_outcome=PollOutcome.OK,
            last_success_at=now,
            consecutive_failures=0,
            poll_interval_seconds=int(interval),
            next_poll_at=now if more else now + timedelta(seconds=interval),
        )
        if state.last_error:
            updates["last_error"] = ""
    else:
        result.status = "partial" if result.events else "failed"
        result.error = error_in_words(error)
        updates.update(
            last_poll_outcome=PollOutcome.PARTIAL if result.events else PollOutcome.FAILED,
            last_error=result.error,
            last_error_at=now,
        )
        if isinstance(error, AllegroRateLimited):
            result.status = "rate_limited"
            updates["next_poll_at"] = now + timedelta(seconds=max(error.retry_after, 1.0))
        elif isinstance(error, AllegroAuthRevoked):
            updates["next_poll_at"] = None  # pollable() leaves it out until re-authorized
        else:
            failures = state.consecutive_failures + 1
            backoff = min(settings.SYNC_POLL_BACKOFF_MAX_SECONDS, busy * 2 ** (failures - 1))
            updates.update(
                consecutive_failures=failures, next_poll_at=now + timedelta(seconds=backoff)
            )
        logger.warning(
            "Poll of channel %s (tenant %s) ended early: %s",
            state.channel_id,
            state.tenant_id,
            type(error).__name__,
        )
    ChannelSyncState.objects.filter(pk=state.pk).update(**updates)
    logger.info(
        "sync_poll channel=%s tenant=%s status=%s events=%s forms=%s created=%s updated=%s "
        "requests=%s cursor=%s duration_ms=%s",
        state.channel_id,
        state.tenant_id,
        result.status,
        result.events,
        result.forms,
        result.created,
        result.updated,
        meter.requests,
        result.cursor,
        int((now - started).total_seconds() * 1000),
    )


# --------------------------------------------------------------------------- bootstrap
def account_of(channel: SalesChannel) -> str:
    return f"{channel.allegro_environment}:{channel.connected_seller_id}"[:64]


def forget_account(state: ChannelSyncState) -> None:
    """The channel now speaks to another Allegro account: its cursor and first-connection
    backfill belong to the old one. Start over (bootstrap and backfill again)."""
    logger.warning("Channel %s is connected to another account: sync starts over", state.channel_id)
    ChannelSyncState.objects.filter(pk=state.pk).update(
        cursor="", cursor_bootstrapped_at=None, cursor_account="", backfill_state=BackfillState.NONE
    )
    state.refresh_from_db()


def bootstrap_cursor(channel: SalesChannel, state: ChannelSyncState, meter: Meter) -> None:
    """First sight of the account: start the journal at its newest event (event-stats), and
    schedule the first backfill. Never runs again for the channel (cursor_bootstrapped_at)."""
    stats = allegro_get(channel, meter, AllegroClient.get_order_event_stats)
    cursor = stats.latest_event_id or ""
    with transaction.atomic():
        locked = lock_state(state.pk)
        if locked.cursor_bootstrapped_at is None:
            now = timezone.now()
            locked.cursor = cursor
            locked.cursor_bootstrapped_at = now
            locked.cursor_account = account_of(channel)
            locked.save(update_fields=["cursor", "cursor_bootstrapped_at", "cursor_account"])
            if locked.backfill_state == BackfillState.NONE and channel.backfill_days > 0:
                start_backfill_locked(
                    locked, now - timedelta(days=channel.backfill_days), now, channel=channel
                )
            logger.info(
                "Channel %s: journal cursor bootstrapped at %r", channel.pk, cursor or "(empty)"
            )
    state.refresh_from_db()
