"""Reconciliation: sweeping ``GET /order/checkout-forms`` for what the journal missed.

Allegro's journal loses events and delivers some hours late (REFERENCE §7.2), so beat runs a
sweep over the last 48 hours every hour and over the last 7 days every night (settings
``SYNC_RECONCILE_*``). A sweep reads every checkout form bought in the window (100 per page,
sorted by purchase time ascending, so new orders only ever append) and upserts them all — the
ingest skips unchanged forms without a write.

"Found missing" counts the forms the journal had missed: not in the database at all (the upsert
created them), or known with another Allegro status or fulfillment status than Allegro's (the
upsert changed them). Forms changed at Allegro in the last ``SYNC_RECONCILE_GRACE_SECONDS`` are
upserted but not counted: their events may simply not have been polled yet.

``offset + limit`` may not exceed 10 000: a window holding more forms is split in two by time,
recursively.

The short sweep (``short_sweep_channel``, every ``SYNC_SHORT_SWEEP_SECONDS``) finds the orders
whose journal events Allegro lost within minutes rather than at the next hourly sweep: one
request per account for the forms changed (``updatedAt``: bought, filled in, paid, cancelled) in
the last ``SYNC_SHORT_SWEEP_WINDOW_SECONDS``, newest first — the window overlaps the previous
sweep's several times over, so a sweep that did not run is covered by the next. At most
``SYNC_SHORT_SWEEP_PAGES`` pages: an account changing more forms than that in the window has
a busy journal, and the hourly sweep covers the rest. Its findings count like the other sweeps'
(``reconcile_missing_total``). Allegro does not move ``updatedAt`` on fulfillment changes; those
are left to the journal and the hourly and nightly sweeps.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from channels.clients.allegro import AllegroClient, AllegroError
from channels.models import SalesChannel
from orders.ingest import Outcome, upsert_orders_from_checkout_forms
from orders.models import Order
from sync.models import ChannelSyncState
from sync.runkit import (
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
MAX_RESULT = 10_000  # offset + limit ≤ 10 000 (REFERENCE §3.2)
MISSING_IDS_KEPT = 50


@dataclass
class ReconcileResult:
    status: str  # done | skipped | not_pollable | failed | off (short sweep switched off)
    window_hours: int = 0
    checked: int = 0
    missing: list[str] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    failed: int = 0
    requests: int = 0
    splits: int = 0
    unstuck: int = 0  # forms the journal had set aside, imported by the sweep
    error: str = ""


def reconcile_channel(
    channel_id: int, window_hours: int, *, now: dt.datetime | None = None
) -> ReconcileResult:
    """Sweep one channel (the caller entered its tenant's scope)."""
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None or not SalesChannel.objects.pollable().filter(pk=channel_id).exists():
        return ReconcileResult("not_pollable", window_hours)
    with try_lock("reconcile", channel.tenant_id, channel.pk) as acquired:
        if not acquired:
            return ReconcileResult("skipped", window_hours)
        return _reconcile_locked(channel, window_hours, now or timezone.now())


def _reconcile_locked(
    channel: SalesChannel, window_hours: int, now: dt.datetime
) -> ReconcileResult:
    state = ensure_state(channel)
    result = ReconcileResult("done", window_hours)
    meter = Meter()
    grace_before = now - dt.timedelta(seconds=settings.SYNC_RECONCILE_GRACE_SECONDS)
    try:
        sweep(
            channel,
            now - dt.timedelta(hours=window_hours),
            now,
            meter,
            lambda forms, fetched_at: _reconcile_page(
                channel, state, forms, fetched_at, grace_before, result
            ),
            result,
        )
    except AllegroError as exc:
        result.status = "failed"
        result.error = error_in_words(exc)
        logger.warning("Reconciliation of channel %s stopped: %s", channel.pk, exc)
    result.requests = meter.requests
    finished = timezone.now()
    updates: dict[str, Any] = {"last_reconcile_error": result.error}
    if result.status == "done":
        updates.update(
            last_reconcile_at=finished,
            last_reconcile_window_hours=window_hours,
            last_reconcile_checked=result.checked,
            last_reconcile_missing=len(result.missing),
            last_reconcile_missing_ids=result.missing[:MISSING_IDS_KEPT],
        )
    ChannelSyncState.objects.filter(pk=state.pk).update(**updates)
    logger.info(
        "sync_reconcile channel=%s tenant=%s status=%s window_h=%s checked=%s missing=%s "
        "created=%s updated=%s unstuck=%s requests=%s splits=%s",
        channel.pk,
        channel.tenant_id,
        result.status,
        window_hours,
        result.checked,
        len(result.missing),
        result.created,
        result.updated,
        result.unstuck,
        result.requests,
        result.splits,
    )
    return result


def short_sweep_channel(channel_id: int, *, now: dt.datetime | None = None) -> ReconcileResult:
    """The short sweep of one channel (the caller entered its tenant's scope). See the module
    docstring. Skipped while another sweep of the channel runs; ``off`` when
    SYNC_SHORT_SWEEP_SECONDS is 0."""
    if settings.SYNC_SHORT_SWEEP_SECONDS <= 0:
        return ReconcileResult("off")
    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None or not SalesChannel.objects.pollable().filter(pk=channel_id).exists():
        return ReconcileResult("not_pollable")
    with try_lock("reconcile", channel.tenant_id, channel.pk) as acquired:
        if not acquired:
            return ReconcileResult("skipped")
        return _short_sweep_locked(channel, now or timezone.now())


def _short_sweep_locked(channel: SalesChannel, now: dt.datetime) -> ReconcileResult:
    state = ensure_state(channel)
    result = ReconcileResult("done")
    meter = Meter()
    grace_before = now - dt.timedelta(seconds=settings.SYNC_RECONCILE_GRACE_SECONDS)
    since = now - dt.timedelta(seconds=settings.SYNC_SHORT_SWEEP_WINDOW_SECONDS)
    offset = 0
    try:
        for _page in range(max(1, settings.SYNC_SHORT_SWEEP_PAGES)):
            fetched_at = timezone.now()
            page = allegro_get(
                channel,
                meter,
                AllegroClient.list_checkout_forms,
                updated_from=since,
                sort="-updatedAt",
                limit=PAGE_SIZE,
                offset=offset,
                retries=0,
            )
            forms = page.checkout_forms
            if forms:
                _reconcile_page(channel, state, forms, fetched_at, grace_before, result)
            offset += len(forms)
            total = page.total_count if page.total_count is not None else offset
            if len(forms) < PAGE_SIZE or offset >= total or offset + PAGE_SIZE > MAX_RESULT:
                break
    except AllegroError as exc:
        result.status = "failed"
        result.error = error_in_words(exc)
        logger.warning("Short sweep of channel %s stopped: %s", channel.pk, exc)
    result.requests = meter.requests
    if result.status == "done":
        ChannelSyncState.objects.filter(pk=state.pk).update(
            last_short_sweep_at=timezone.now(),
            last_short_sweep_checked=result.checked,
            last_short_sweep_missing=len(result.missing),
        )
    logger.info(
        "sync_short_sweep channel=%s tenant=%s status=%s checked=%s missing=%s created=%s "
        "updated=%s unstuck=%s requests=%s",
        channel.pk,
        channel.tenant_id,
        result.status,
        result.checked,
        len(result.missing),
        result.created,
        result.updated,
        result.unstuck,
        result.requests,
    )
    return result


def sweep(
    channel: SalesChannel,
    gte: dt.datetime,
    lte: dt.datetime,
    meter: Meter,
    on_page: Callable[[list[Any], dt.datetime], None],
    result: ReconcileResult | None = None,
    seen: set[str] | None = None,
) -> None:
    """Every checkout form bought in [gte, lte], page by page, to ``on_page`` (with the time the
    page was asked for); windows with more
    than 10 000 forms are split by time. The halves share their boundary millisecond (Allegro's
    filters are inclusive, its clock finer than the query's milliseconds); a form seen twice is
    passed on once."""
    seen = set() if seen is None else seen
    offset = 0
    while True:
        limit = min(PAGE_SIZE, MAX_RESULT - offset)
        if limit <= 0:
            logger.warning(
                "More than %s orders bought within one second on channel %s; the rest of that "
                "second is left to the journal",
                MAX_RESULT,
                channel.pk,
            )
            return
        fetched_at = timezone.now()
        page = allegro_get(
            channel,
            meter,
            AllegroClient.list_checkout_forms,
            bought_from=gte,
            bought_to=lte,
            sort="lineItems.boughtAt",
            limit=limit,
            offset=offset,
        )
        forms = page.checkout_forms
        total = page.total_count if page.total_count is not None else offset + len(forms)
        if offset == 0 and total > MAX_RESULT and lte - gte > dt.timedelta(seconds=1):
            middle = gte + (lte - gte) / 2
            middle = middle.replace(microsecond=middle.microsecond // 1000 * 1000)
            if result is not None:
                result.splits += 1
            sweep(channel, gte, middle, meter, on_page, result, seen)
            sweep(channel, middle, lte, meter, on_page, result, seen)
            return
        fresh = [f for f in forms if not (isinstance(f, dict) and f.get("id") in seen)]
        seen.update(f["id"] for f in fresh if isinstance(f, dict) and isinstance(f.get("id"), str))
        if fresh:
            on_page(fresh, fetched_at)
        offset += len(forms)
        if len(forms) < limit or offset >= total:
            return


def _reconcile_page(
    channel: SalesChannel,
    state: ChannelSyncState,
    forms: list[Any],
    fetched_at: dt.datetime,
    grace_before: dt.datetime,
    result: ReconcileResult,
) -> None:
    ids = [str(f["id"]) for f in forms if isinstance(f, dict) and isinstance(f.get("id"), str)]
    with transaction.atomic():
        locked = lock_state(state.pk)
        before = {
            external_id: (allegro_status, fulfillment_status)
            for external_id, allegro_status, fulfillment_status in Order.objects.filter(
                channel=channel, external_id__in=ids
            ).values_list("external_id", "allegro_status", "fulfillment_status")
        }
        batch = upsert_orders_from_checkout_forms(channel, forms, fetched_at=fetched_at)
        # The list served these: any the journal had set aside (5xx on its own) are done.
        unstuck = forget_stuck_forms(channel, ids)
        by_id = {f["id"]: f for f in forms if isinstance(f, dict) and isinstance(f.get("id"), str)}
        missing: list[str] = []
        for outcome in batch.results:
            form = by_id.get(outcome.external_id)
            if form is None or _recent(form, grace_before):
                continue
            created = outcome.outcome == Outcome.CREATED
            changed = outcome.outcome == Outcome.UPDATED and before.get(
                outcome.external_id
            ) != _state_of(form)
            if created or changed:
                missing.append(outcome.external_id)
        failed = batch.with_outcome(Outcome.FAILED)
        record_bad_forms(
            locked, [(r.external_id or "?", r.error or "could not be read") for r in failed]
        )
        if missing:
            locked.reconcile_missing_total += len(missing)
        locked.save(update_fields=["bad_forms", "bad_forms_total", "reconcile_missing_total"])
    result.checked += len(forms)
    result.created += len(batch.with_outcome(Outcome.CREATED))
    result.updated += len(batch.with_outcome(Outcome.UPDATED))
    result.failed += len(failed)
    result.unstuck += unstuck
    result.missing += missing


def _state_of(form: dict) -> tuple[str, str]:
    fulfillment = form.get("fulfillment")
    status = fulfillment.get("status") if isinstance(fulfillment, dict) else None
    return (str(form.get("status") or ""), str(status or ""))


def _recent(form: dict, grace_before: dt.datetime) -> bool:
    """Changed at Allegro so recently that the journal may simply not have been polled yet."""
    moments = [parse_time(form.get("updatedAt"))]
    items = form.get("lineItems")
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict):
            moments.append(parse_time(item.get("boughtAt")))
    known = [m for m in moments if m is not None]
    return bool(known) and max(known) > grace_before
