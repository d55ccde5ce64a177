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
   whose form was read. A crash before the commit replays the events; after it, skips nothing.
   The forms of new purchases and payments come through the list endpoint, 100 per request,
   where it serves them at least as new as their events; the rest one by one (docs/adr/0014);
4. reads a form that fails on its own (5xx, no answer in time) again after the batch's other
   forms, and sets it aside if it still fails instead of stopping at it:
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
import random
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
    TIMEOUT_CODE,
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
    parse_time,
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
    # (id, 5xx status or None for no answer in time): set aside
    unreadable: list[tuple[str, int | None]] = field(default_factory=list)
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
                fetched = _fetch_forms(
                    channel,
                    _form_ids(chunk),
                    meter,
                    set_aside_left=allowance,
                    listable=_listable(chunk),
                )
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


# Journal events after which a form's updatedAt is at least the event's time: the buyer's side
# of a purchase (Allegro does not move updatedAt on fulfillment changes, REFERENCE §3.2).
LISTABLE_EVENT_TYPES = frozenset({"BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING"})
LIST_PAGE_SIZE = 100
LIST_MAX_RESULT = 10_000  # offset + limit ≤ 10 000


def _listable(events: list[JournalEvent]) -> dict[str, datetime]:
    """The forms the list endpoint may serve for these events: form id -> the time of its newest
    event, for forms whose every event here is a purchase, a filled-in form or a payment."""
    newest: dict[str, datetime] = {}
    excluded: set[str] = set()
    for event in events:
        form_id = event.checkout_form_id
        if not form_id:
            continue
        if event.type not in LISTABLE_EVENT_TYPES or event.occurred_at is None:
            excluded.add(form_id)
            continue
        known = newest.get(form_id)
        newest[form_id] = event.occurred_at if known is None else max(known, event.occurred_at)
    return {form_id: at for form_id, at in newest.items() if form_id not in excluded}


def _list_forms(
    channel: SalesChannel, expected: dict[str, datetime], meter: Meter
) -> dict[str, Any]:
    """The expected forms as ``GET /order/checkout-forms`` serves them, changed since the oldest
    of their events (oldest change first, 100 per request). A form counts only when it came
    back with an ``updatedAt`` at least its newest event's time (the list is then not older
    than the journal); the rest are read one by one. Pages stop once the rest would cost more
    requests than reading the missing forms one by one. Raises what the client raises."""
    since = min(expected.values())
    since = since.replace(microsecond=since.microsecond // 1000 * 1000)
    found: dict[str, Any] = {}
    offset = 0
    while len(found) < len(expected):
        limit = min(LIST_PAGE_SIZE, LIST_MAX_RESULT - offset)
        if limit <= 0:
            break
        page = allegro_get(
            channel,
            meter,
            AllegroClient.list_checkout_forms,
            updated_from=since,
            sort="updatedAt",
            limit=limit,
            offset=offset,
            retries=0,
        )
        for form in page.checkout_forms:
            form_id = form.get("id") if isinstance(form, dict) else None
            if not isinstance(form_id, str) or form_id not in expected or form_id in found:
                continue
            updated = parse_time(form.get("updatedAt"))
            if updated is not None and updated >= expected[form_id]:
                found[form_id] = form
        offset += len(page.checkout_forms)
        total = page.total_count if page.total_count is not None else offset
        if len(page.checkout_forms) < limit or offset >= total:
            break
        pages_left = -(-(total - offset) // LIST_PAGE_SIZE)
        if pages_left >= len(expected) - len(found):
            break
    return found


def _form_fault(exc: AllegroTransientError) -> bool:
    """A failure of this one form (a 5xx, no answer in time, a malformed answer), as opposed to
    a network that is down: worth a retry of the form while the others are read."""
    return (
        (exc.status or 0) >= 500
        or exc.code == TIMEOUT_CODE
        or isinstance(exc, AllegroMalformedResponse)
    )


def _retry_pause(round_: int) -> float:
    """Seconds to wait before retry round ``round_`` (0-based) of the forms that failed:
    exponential from SYNC_FORM_RETRY_PAUSE_SECONDS, at most SYNC_FORM_RETRY_MAX_PAUSE_SECONDS,
    with jitter (half to all of it) so the retries of many accounts do not arrive together."""
    pause = min(
        settings.SYNC_FORM_RETRY_MAX_PAUSE_SECONDS,
        settings.SYNC_FORM_RETRY_PAUSE_SECONDS * 2**round_,
    )
    return pause * random.uniform(0.5, 1.0)


def _fetch_forms(
    channel: SalesChannel,
    form_ids: list[str],
    meter: Meter,
    *,
    set_aside_left: int = 0,
    listable: dict[str, datetime] | None = None,
) -> _Fetched:
    """Read every form (HTTP, outside any transaction): the ``listable`` ones through the list
    endpoint where it serves them (``_list_forms``), the rest one by one.

    A form that fails on its own (a 5xx, no answer in time, a malformed answer) does not hold up
    the others: it is read again after them, in up to SYNC_GET_RETRIES rounds with a jittered
    pause. Up to ``set_aside_left`` forms still failing with a 5xx or no answer are noted as
    unreadable (set aside); one still malformed is noted as a problem like one Allegro refuses.
    Any other failure (network down, 429, revoked grant, more failing forms than the allowance)
    stops at the first form not read."""
    fetched = _Fetched(fetched_at=timezone.now())
    position = {form_id: i for i, form_id in enumerate(form_ids)}
    listed: dict[str, Any] = {}
    if listable and settings.SYNC_LIST_READS and len(listable) >= settings.SYNC_LIST_MIN_FORMS:
        try:
            listed = _list_forms(channel, listable, meter)
        except (AllegroRateLimited, AllegroAuthRevoked) as exc:
            fetched.stopped_at, fetched.error = form_ids[0], exc
            return fetched
        except AllegroError as exc:
            logger.info("Channel %s: list read failed (%s); forms read one by one", channel.pk, exc)

    failing: dict[str, AllegroTransientError] = {}  # form id -> its last failure
    earliest = position.__getitem__

    def get(form_id: str) -> Any:
        try:
            return allegro_get(channel, meter, AllegroClient.get_checkout_form, form_id, retries=0)
        except AllegroTransientError as exc:
            if _form_fault(exc) or settings.SYNC_GET_RETRIES < 1:
                raise
        # The network rather than the form (connection refused or reset): retried at once, as
        # any read is, and if it persists the run stops.
        time.sleep(_retry_pause(0))
        return allegro_get(
            channel,
            meter,
            AllegroClient.get_checkout_form,
            form_id,
            retries=settings.SYNC_GET_RETRIES - 1,
        )

    def read(form_id: str) -> AllegroError | None:
        """Read one form into ``fetched``; the error that ends the run, if any."""
        try:
            form = get(form_id)
        except AllegroTransientError as exc:
            if not _form_fault(exc):
                return exc
            failing[form_id] = exc
            return None
        except AllegroPermanentError as exc:
            failing.pop(form_id, None)
            if exc.status == 404:
                fetched.gone.append(form_id)
            else:
                fetched.problems.append((form_id, error_in_words(exc)))
            return None
        except (AllegroRateLimited, AllegroAuthRevoked) as exc:
            return exc
        failing.pop(form_id, None)
        fetched.forms[form_id] = form
        return None

    # First pass, in journal order.
    stop: str | None = None  # the first form not to be processed
    for form_id in form_ids:
        if form_id in listed:
            fetched.forms[form_id] = listed[form_id]
            continue
        error = read(form_id)
        if error is not None:
            # The account as a whole cannot be read: nothing is retried or set aside, the
            # journal is read again from the first form not read.
            fetched.stopped_at = min([form_id, *failing], key=earliest)
            fetched.error = error
            return _with_successors(channel, fetched, meter)
        if len(failing) > set_aside_left:
            # More forms failing than may be set aside: Allegro is failing broadly. The poll
            # stops at this form; the earlier ones get their retries.
            stop = form_id
            fetched.error = failing.pop(form_id)
            break
    # The forms that failed on their own, again, after the others.
    for round_ in range(settings.SYNC_GET_RETRIES):
        if not failing:
            break
        time.sleep(_retry_pause(round_))
        for form_id in sorted(failing, key=earliest):
            error = read(form_id)
            if error is not None:
                fetched.stopped_at = min(
                    [form_id, *failing, *([stop] if stop else [])], key=earliest
                )
                fetched.error = error
                return _with_successors(channel, fetched, meter)
    fetched.stopped_at = stop
    for form_id in sorted(failing, key=earliest):
        failure = failing[form_id]
        if isinstance(failure, AllegroMalformedResponse):
            fetched.problems.append((form_id, error_in_words(failure)))
        else:
            fetched.unreadable.append((form_id, failure.status))
    return _with_successors(channel, fetched, meter)


def _with_successors(channel: SalesChannel, fetched: _Fetched, meter: Meter) -> _Fetched:
    """Look for the forms the 404s were merged into (HTTP, outside any transaction)."""
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


def set_forms_aside(channel: SalesChannel, unreadable: list[tuple[str, int | None]]) -> None:
    """Put the forms Allegro answered 5xx for (or did not answer in time: status None) on the
    channel's stuck list, or note one more failed attempt of those already there (caller holds
    the sync-state row lock)."""
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
