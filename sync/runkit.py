"""What every run of the sync engine shares — the journal poll, the reconciliation sweeps and the
backfill: reads from Allegro (the client's typed endpoints) with a few retries and a request
meter, the per-channel locks, the channel's sync-state row, the list of forms that could not be
imported, and the problem texts in the seller's words.

Calls to Allegro never happen inside a transaction (token refresh needs its own durable one,
ADR 0002). Lock order everywhere: sync-state row, then the ingest's channel lock, then order
rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
)
from channels.clients.allegro import parse_time as parse_time  # the engine's one time parser
from channels.models import SalesChannel
from channels.services.api import on_behalf
from core.locking import lock_name
from core.locking import try_lock as named_lock
from sync.models import ChannelSyncState, StuckCheckoutForm

# The tasks the services dispatch (core.tasks.dispatch_after_commit), by name: sync/tasks.py
# imports the services, so the services name the tasks instead of importing them.
POLL_CHANNEL_TASK = "sync.tasks.poll_channel"
BACKFILL_CHANNEL_TASK = "sync.tasks.backfill_channel"


# --------------------------------------------------------------------------- locks
def lock_key(kind: str, tenant_id: int, channel_id: int) -> str:
    """ "apilo:sync:<kind>:<tenant>:<channel>", named the one way core.locking names locks."""
    return lock_name(f"sync:{kind}", tenant_id, channel_id)


@contextmanager
def try_lock(kind: str, tenant_id: int, channel_id: int) -> Iterator[bool]:
    """Hold the (kind, tenant, channel) lock while the block runs; yields False at once if
    someone else holds it (core.locking: a PostgreSQL advisory lock, a cache key elsewhere)."""
    with named_lock(lock_key(kind, tenant_id, channel_id)) as acquired:
        yield acquired


def lock_state(state_id: int) -> ChannelSyncState:
    """The sync-state row, locked until the transaction ends (``FOR NO KEY UPDATE OF self``)."""
    return ChannelSyncState.objects.select_for_update(no_key=True, of=("self",)).get(pk=state_id)


# --------------------------------------------------------------------------- state
def ensure_state(channel: SalesChannel) -> ChannelSyncState:
    """The channel's sync-state row, created on first use (race-safe: unique (tenant, channel))."""
    state = ChannelSyncState.objects.filter(channel=channel).first()
    if state is not None:
        return state
    ChannelSyncState.objects.bulk_create(
        [
            ChannelSyncState(
                tenant_id=channel.tenant_id,
                channel=channel,
                poll_interval_seconds=int(settings.SYNC_POLL_BUSY_SECONDS),
            )
        ],
        ignore_conflicts=True,
    )
    return ChannelSyncState.objects.get(channel=channel)


def record_bad_forms(state: ChannelSyncState, problems: list[tuple[str, str]]) -> None:
    """Remember forms that could not be imported (caller holds the state row lock)."""
    if not problems:
        return
    at = timezone.now().isoformat(timespec="seconds")
    entries = [{"id": form_id[:64], "error": error[:300], "at": at} for form_id, error in problems]
    state.bad_forms = (entries[::-1] + list(state.bad_forms or []))[: state.BAD_FORMS_KEPT]
    state.bad_forms_total += len(problems)


def forget_stuck_forms(channel: SalesChannel, form_ids: list[str]) -> int:
    """Take these forms off the channel's stuck list (served after all, or gone at Allegro)."""
    if not form_ids:
        return 0
    deleted, _ = StuckCheckoutForm.objects.filter(channel=channel, form_id__in=form_ids).delete()
    return deleted


# --------------------------------------------------------------------------- Allegro access
@dataclass
class Meter:
    """What one poll/sweep/backfill step cost: Allegro requests (incl. retries)."""

    requests: int = 0


T = TypeVar("T")


def allegro_get(
    channel: SalesChannel,
    meter: Meter,
    endpoint: Callable[..., T],
    *args: Any,
    retries: int | None = None,
    **kwargs: Any,
) -> T:
    """One of the client's GET endpoints (``AllegroClient.list_order_events``, …) through
    channels.services.api.on_behalf(), retrying network errors, 5xx and malformed answers a few
    times (``retries``, by default SYNC_GET_RETRIES) with a short pause. A 429 (or our limiter
    saying no) is not retried here: it ends the caller's run, and the account is polled again
    after the block."""
    attempts = (settings.SYNC_GET_RETRIES if retries is None else retries) + 1
    for attempt in range(attempts):
        meter.requests += 1
        try:
            return on_behalf(channel, endpoint, *args, **kwargs)
        except AllegroTransientError:
            if attempt + 1 >= attempts:
                raise
            time.sleep(0.2 * (2**attempt))
    raise AssertionError("unreachable")


# --------------------------------------------------------------------------- problems in words
# The channel page shows these stored texts translated ({% translate %} of the stored English).
AUTH_REVOKED_TEXT = gettext_noop(
    "Allegro no longer accepts apilo's authorization for this account; authorize the channel "
    "again (no order will be missed)."
)
RATE_LIMITED_TEXT = gettext_noop(
    "Allegro's request limit was reached; fetching pauses and continues by itself."
)
TRANSIENT_TEXT = gettext_noop("Allegro did not answer properly; apilo tries again by itself.")
INTERNAL_TEXT = gettext_noop(
    "An internal error interrupted fetching orders; it is logged for the engineers and retried."
)
GONE_TEXT = gettext_noop(
    "Allegro no longer has this order (removed, or merged into an order that was not found); "
    "the order was left as it is."
)


# Stored texts with a variable tail: the fixed part is translated when shown.
_STORED_WITH_DETAIL = (
    ("Allegro refused a request: ", gettext_noop("Allegro refused a request: %(detail)s")),
    ("Allegro error: ", gettext_noop("Allegro error: %(detail)s")),
    # orders.ingest: the parser itself failed (for the engineers; the detail is Python's).
    ("Parser error: ", gettext_noop("Parser error: %(detail)s")),
)


def error_in_words(exc: BaseException) -> str:
    """What went wrong, for the channel page (never a token or a response body)."""
    if isinstance(exc, AllegroAuthRevoked):
        return AUTH_REVOKED_TEXT
    if isinstance(exc, AllegroRateLimited):
        return RATE_LIMITED_TEXT
    if isinstance(exc, AllegroTransientError):
        return TRANSIENT_TEXT
    if isinstance(exc, AllegroPermanentError):
        detail = exc.user_message or exc.code or str(exc.status or "")
        return f"Allegro refused a request: {detail}"[:500]
    if isinstance(exc, AllegroError):
        return f"Allegro error: {exc}"[:500]
    return INTERNAL_TEXT


def stored_text_in_words(text: str) -> str:
    """A stored problem text (English, from error_in_words or the ingest) in the language of
    the page: the fixed texts through the catalogue, "Allegro refused a request: …" with its
    detail kept as Allegro sent it."""
    if not text:
        return ""
    for prefix, message in _STORED_WITH_DETAIL:
        if text.startswith(prefix):
            return gettext(message) % {"detail": text[len(prefix) :]}
    return gettext(text)
