"""Backfill: importing past orders through ``GET /order/checkout-forms`` (100 per page).

Runs on the first authorization of a channel (the channel's ``backfill_days``, scheduled when the
journal cursor is bootstrapped, so nothing falls between the two) and on "re-import" of a date
range from the channel page.

* **Keyset paging**, not offsets: forms sorted by ``lineItems.boughtAt`` ascending, each page
  asks for ``boughtAt ≥ position`` and skips the forms already taken at exactly that time
  (``position_offset``). Offsets stay tiny, so ``offset + limit ≤ 10 000`` never bites, and a
  form that disappears meanwhile (merged purchase) cannot shift the pages.
* **Progress is persisted** with every page, in the same transaction as the page's upserts; a
  task that is killed resumes from the last committed page (the page in flight is read again;
  the upsert is idempotent, so nothing is duplicated).
* **Self-chaining tasks**: a task does ``SYNC_BACKFILL_PAGES_PER_TASK`` pages and enqueues the
  next one; the poll tick re-dispatches a backfill whose heartbeat is older than
  ``SYNC_BACKFILL_STALE_SECONDS`` (a chain broken by a crash).
* **Single-flight** per channel (advisory lock "backfill"); a new re-import bumps
  ``backfill_run`` and the tasks of the older run stop at their next page.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroError,
    AllegroRateLimited,
    AllegroTransientError,
)
from channels.models import SalesChannel
from core.errors import UserError
from core.tasks import dispatch_after_commit
from orders.ingest import Outcome, upsert_orders_from_checkout_forms
from sync.models import BackfillState, ChannelSyncState
from sync.runkit import (
    BACKFILL_CHANNEL_TASK,
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

logger = logging.getLogger(__name__)

PAGE_SIZE = 100
# How far back a re-import may reach: Allegro guarantees orders of the last 12 months.
MAX_DAYS_BACK = 365


class BackfillRejected(UserError, ValueError):
    """A re-import the rules refuse (still a ValueError, as it always was)."""


def start_backfill_locked(
    state: ChannelSyncState, date_from: dt.datetime, date_to: dt.datetime, *, channel: SalesChannel
) -> None:
    """Start a new backfill run (caller holds the state row lock); its task is enqueued after
    commit."""
    now = timezone.now()
    state.backfill_run += 1
    state.backfill_state = BackfillState.PENDING
    state.backfill_from, state.backfill_to = date_from, date_to
    state.backfill_position, state.backfill_position_offset = None, 0
    state.backfill_total = state.backfill_done = 0
    state.backfill_created = state.backfill_failed = 0
    state.backfill_started_at, state.backfill_finished_at = None, None
    state.backfill_heartbeat_at = now
    state.backfill_error = ""
    state.save(
        update_fields=[
            "backfill_run",
            "backfill_state",
            "backfill_from",
            "backfill_to",
            "backfill_position",
            "backfill_position_offset",
            "backfill_total",
            "backfill_done",
            "backfill_created",
            "backfill_failed",
            "backfill_started_at",
            "backfill_finished_at",
            "backfill_heartbeat_at",
            "backfill_error",
        ]
    )
    dispatch_after_commit(BACKFILL_CHANNEL_TASK, channel.tenant_id, channel.pk, state.backfill_run)


def request_reimport(
    channel: SalesChannel, date_from: dt.date, date_to: dt.date, *, today: dt.date | None = None
) -> ChannelSyncState:
    """Re-import the orders bought from ``date_from`` to ``date_to`` (whole days, the tenant's
    time zone). Replaces a backfill in progress."""
    today = today or timezone.localdate()
    if date_from > date_to:
        raise BackfillRejected(
            _("The start date must not be after the end date."), code="dates_reversed"
        )
    if date_to > today:
        raise BackfillRejected(_("The end date must not be in the future."), code="end_in_future")
    if date_from < today - dt.timedelta(days=MAX_DAYS_BACK):
        raise BackfillRejected(
            _("Allegro keeps orders for 12 months: choose a start date within the last 12 months."),
            code="start_too_early",
        )
    if not channel.is_connected:
        raise BackfillRejected(
            _("Connect the channel to Allegro first."), code="channel_not_connected"
        )
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(date_from, dt.time.min, tzinfo=tz)
    end = min(dt.datetime.combine(date_to, dt.time.max, tzinfo=tz), timezone.now())
    state = ensure_state(channel)
    with transaction.atomic():
        locked = lock_state(state.pk)
        start_backfill_locked(locked, start, end, channel=channel)
    return locked


@dataclass
class BackfillStep:
    status: str  # continue | done | stale | skipped | retry | failed
    pages: int = 0
    forms: int = 0
    created: int = 0
    requests: int = 0
    countdown: float = 0.0
    error: str = ""


def run_backfill(channel_id: int, run: int, *, max_pages: int | None = None) -> BackfillStep:
    """Import up to ``max_pages`` pages of backfill run ``run`` (caller entered the scope)."""
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        return BackfillStep("stale")
    with try_lock("backfill", channel.tenant_id, channel.pk) as acquired:
        if not acquired:
            return BackfillStep("skipped")
        return _run_locked(channel, run, max_pages or settings.SYNC_BACKFILL_PAGES_PER_TASK)


def _run_locked(channel: SalesChannel, run: int, max_pages: int) -> BackfillStep:
    state = ensure_state(channel)
    if state.backfill_run != run or state.backfill_state not in (
        BackfillState.PENDING,
        BackfillState.RUNNING,
    ):
        return BackfillStep("stale")
    if not channel.is_connected or not channel.is_active:
        # Resumed by the poll tick once the channel is connected again.
        return BackfillStep("stale")
    meter = Meter()
    step = BackfillStep("continue")
    if state.backfill_state == BackfillState.PENDING:
        now = timezone.now()
        ChannelSyncState.objects.filter(pk=state.pk, backfill_run=run).update(
            backfill_state=BackfillState.RUNNING,
            backfill_started_at=now,
            backfill_heartbeat_at=now,
        )
        state.refresh_from_db()
    try:
        for _page in range(max_pages):
            if not _one_page(channel, state, meter, step):
                break
    except (AllegroTransientError, AllegroRateLimited) as exc:
        step.status = "retry"
        step.error = error_in_words(exc)
        step.countdown = max(getattr(exc, "retry_after", 0.0), settings.SYNC_POLL_BUSY_SECONDS)
        ChannelSyncState.objects.filter(pk=state.pk, backfill_run=run).update(
            backfill_error=step.error
        )
    except AllegroAuthRevoked as exc:
        step.status = "stale"
        step.error = error_in_words(exc)
        ChannelSyncState.objects.filter(pk=state.pk, backfill_run=run).update(
            backfill_error=step.error
        )
    except AllegroError as exc:
        step.status = "failed"
        step.error = error_in_words(exc)
        ChannelSyncState.objects.filter(pk=state.pk, backfill_run=run).update(
            backfill_state=BackfillState.FAILED,
            backfill_error=step.error,
            backfill_finished_at=timezone.now(),
        )
        logger.warning("Backfill of channel %s failed: %s", channel.pk, exc)
    step.requests = meter.requests
    return step


def _one_page(
    channel: SalesChannel, state: ChannelSyncState, meter: Meter, step: BackfillStep
) -> bool:
    """Import one page; False when the run is finished (or was replaced)."""
    position = state.backfill_position or state.backfill_from
    end = state.backfill_to
    if position is None or end is None:  # every run is given its range: nothing to import
        return False
    fetched_at = timezone.now()
    page = allegro_get(
        channel,
        meter,
        AllegroClient.list_checkout_forms,
        bought_from=position,
        bought_to=end,
        sort="lineItems.boughtAt",
        limit=PAGE_SIZE,
        offset=state.backfill_position_offset,
    )
    forms, total = page.checkout_forms, page.total_count
    new_position, new_offset = _advance(
        state.backfill_position, state.backfill_position_offset, forms
    )
    with transaction.atomic():
        locked = lock_state(state.pk)
        if locked.backfill_run != state.backfill_run or locked.backfill_state not in (
            BackfillState.RUNNING,
            BackfillState.PENDING,
        ):
            step.status = "stale"
            return False
        first_page = locked.backfill_position is None and locked.backfill_done == 0
        if first_page and isinstance(total, int):
            locked.backfill_total = total
        problems: list[tuple[str, str]] = []
        if forms:
            batch = upsert_orders_from_checkout_forms(
                channel, forms, fetched_at=fetched_at, backfill=True
            )
            created = len(batch.with_outcome(Outcome.CREATED))
            failed = batch.with_outcome(Outcome.FAILED)
            problems = [(r.external_id or "?", r.error or "could not be read") for r in failed]
            locked.backfill_done += len(forms)
            locked.backfill_created += created
            locked.backfill_failed += len(failed)
            step.forms += len(forms)
            step.created += created
            record_bad_forms(locked, problems)
            forget_stuck_forms(
                channel, [str(f["id"]) for f in forms if isinstance(f, dict) and f.get("id")]
            )
        now = timezone.now()
        locked.backfill_heartbeat_at = now
        finished = len(forms) < PAGE_SIZE
        if new_position is not None:
            locked.backfill_position, locked.backfill_position_offset = new_position, new_offset
        if finished:
            locked.backfill_state = BackfillState.DONE
            locked.backfill_finished_at = now
            locked.backfill_error = ""
            locked.backfill_total = max(locked.backfill_total, locked.backfill_done)
            step.status = "done"
        locked.save()
    step.pages += 1
    state.refresh_from_db()
    return not finished


def _advance(
    position: dt.datetime | None, offset: int, forms: list[Any]
) -> tuple[dt.datetime | None, int]:
    """The keyset position after a page sorted by purchase time: the last form's time, and how
    many forms at exactly that time the next page must skip."""
    times = [t for t in (_bought_at(f) for f in forms) if t is not None]
    if not times:
        return position, offset + len(forms)
    last = max(times)
    if position is not None and last <= position:
        # The whole page had the position's time (or odd data): skip further along it.
        return position, offset + len(forms)
    return last, sum(1 for t in times if t == last)


def _bought_at(form: Any) -> dt.datetime | None:
    items = form.get("lineItems") if isinstance(form, dict) else None
    parsed = (
        parse_time(i.get("boughtAt"))
        for i in (items if isinstance(items, list) else [])
        if isinstance(i, dict)
    )
    moments = [m for m in parsed if m is not None]
    return min(moments) if moments else None
