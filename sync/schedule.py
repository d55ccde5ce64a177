"""When each account is polled: the poll plan that spends the deployment's Allegro budget
(docs/adr/0013-poll-budget.md), the beat tick that computes it, claims the channels whose poll is
due and enqueues their polls (each poll sets its own next poll from the plan, sync/poll.py), the
restart of backfills that stopped making progress, and polling a channel at once when it is
connected.

The plan. Allegro allows ``ALLEGRO_RATE_LIMIT_PER_MINUTE`` requests per client id, shared by
every account; ``SYNC_POLL_BUDGET_SHARE`` of it is planned for journal polls (one request each
when nothing is new), the rest stays for the forms a busy poll reads, pushes, labels, carriers
and sweeps. An account whose last poll found events (or that was never polled) is *busy*; an
idle one doubles its interval after every empty poll. The plan, in whole seconds:

1. the busy interval ``T``: the shortest (never below ``SYNC_POLL_MIN_SECONDS``) such that busy
   accounts every ``T`` and idle ones every ``max(T, their interval)`` — backed off at most to
   ``SYNC_POLL_IDLE_MAX_SECONDS`` — stay within the share. Busy accounts come first; only when
   the share cannot carry every account even so does ``T`` grow past the idle ceiling;
2. the idle ceiling ``K``: what is left goes to the idle accounts, so an order on a quiet account
   is found soon too — the shortest ceiling of their backoff (between ``T`` and
   ``SYNC_POLL_IDLE_MAX_SECONDS``) that still fits the share.

The rate limiter (channels/ratelimit.py) still decides every single request.

``SYNC_POLL_PLAN = "fixed"`` keeps the fixed schedule of before (busy every
``SYNC_POLL_BUSY_SECONDS``), for comparison in bench/pull_scale.py.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django_scopes import scopes_disabled

from channels.clients.allegro import configured_environments
from channels.models import SalesChannel
from channels.ratelimit import get_limiter
from core.tasks import dispatch_after_commit
from sync.models import BackfillState, ChannelSyncState
from sync.runkit import BACKFILL_CHANNEL_TASK, POLL_CHANNEL_TASK, ensure_state

logger = logging.getLogger(__name__)

PLAN_CACHE_KEY = "sync:poll-plan"


# --------------------------------------------------------------------------- the plan
@dataclass(frozen=True)
class PollPlan:
    """How often accounts are polled, deployment-wide."""

    busy_seconds: int  # the interval of a busy account
    idle_max_seconds: int  # the longest interval an idle account backs off to
    polls_per_minute: float  # what the plan spends: the sum over accounts of 60 / interval
    budget_per_minute: float  # the share of Allegro's budget given to polls
    accounts: int


def plan_polls(
    busy: int,
    idle: Mapping[int, int],
    *,
    budget_per_minute: float,
    floor_seconds: float,
    ceiling_seconds: float,
) -> PollPlan:
    """The plan for ``busy`` busy accounts and the idle ones (``idle``: wanted interval in
    seconds → number of accounts). Pure; see the module docstring."""
    floor = max(1, math.ceil(floor_seconds))
    ceiling = max(floor, math.ceil(ceiling_seconds))
    wanted = Counter({max(floor, min(ceiling, int(s))): n for s, n in idle.items() if n > 0})
    accounts = busy + sum(wanted.values())
    budget = max(1e-9, float(budget_per_minute))

    def spent(t: int, cap: int = ceiling) -> float:
        """Polls per minute with busy accounts every ``t`` s, idle ones backing off to ``cap``."""
        return busy * 60.0 / t + sum(n * 60.0 / max(t, min(s, cap)) for s, n in wanted.items())

    # First the busy interval, idle accounts at their longest: spent() falls as t grows, and at
    # t = accounts * 60 / budget (rounded up) every account polled every t seconds spends at most
    # the budget, so the search has an upper end that fits.
    busy_seconds = _smallest(floor, max(floor, math.ceil(accounts * 60.0 / budget)), spent, budget)
    # Then what is left goes to the idle accounts: the shortest ceiling of their backoff that
    # still fits (the configured ceiling fits by the first step).
    idle_max = _smallest(
        busy_seconds,
        max(busy_seconds, ceiling),
        lambda cap: spent(busy_seconds, cap),
        budget,
    )
    return PollPlan(
        busy_seconds=busy_seconds,
        idle_max_seconds=idle_max,
        polls_per_minute=round(spent(busy_seconds, idle_max), 1),
        budget_per_minute=budget,
        accounts=accounts,
    )


def _smallest(low: int, high: int, cost: Callable[[int], float], budget: float) -> int:
    """The smallest whole ``x`` in [low, high] with ``cost(x) <= budget`` (``cost`` falls as
    ``x`` grows; ``high`` fits)."""
    while low < high:
        mid = (low + high) // 2
        if cost(mid) <= budget:
            high = mid
        else:
            low = mid + 1
    return low


def _fixed_plan() -> PollPlan:
    busy = max(1, math.ceil(settings.SYNC_POLL_BUSY_SECONDS))
    return PollPlan(
        busy_seconds=busy,
        idle_max_seconds=max(busy, math.ceil(settings.SYNC_POLL_IDLE_MAX_SECONDS)),
        polls_per_minute=0.0,
        budget_per_minute=0.0,
        accounts=0,
    )


def compute_plan() -> PollPlan:
    """The plan for the pollable accounts as they are now (two aggregate queries)."""
    if settings.SYNC_POLL_PLAN == "fixed":
        return _fixed_plan()
    with scopes_disabled():
        states = ChannelSyncState.objects.filter(channel__in=SalesChannel.objects.pollable())
        busy_q = Q(last_poll_events__gt=0) | Q(last_poll_at__isnull=True)
        busy = states.filter(busy_q).count()
        idle = dict(
            states.exclude(busy_q)
            .values("poll_interval_seconds")
            .annotate(n=Count("pk"))
            .values_list("poll_interval_seconds", "n")
        )
        # A channel the tick has not given a sync-state row yet is polled at once: busy.
        busy += SalesChannel.objects.pollable().exclude(sync_states__isnull=False).count()
    return plan_polls(
        busy,
        idle,
        budget_per_minute=settings.ALLEGRO_RATE_LIMIT_PER_MINUTE * settings.SYNC_POLL_BUDGET_SHARE,
        floor_seconds=settings.SYNC_POLL_MIN_SECONDS,
        ceiling_seconds=settings.SYNC_POLL_IDLE_MAX_SECONDS,
    )


def current_plan() -> PollPlan:
    """The plan of the last beat tick (the cache), or computed now when there is none."""
    if settings.SYNC_POLL_PLAN == "fixed":
        return _fixed_plan()
    plan = cache.get(PLAN_CACHE_KEY)
    if isinstance(plan, PollPlan):
        return plan
    return _store_plan(compute_plan())


def _store_plan(plan: PollPlan) -> PollPlan:
    cache.set(PLAN_CACHE_KEY, plan, timeout=max(10.0, 5 * settings.SYNC_POLL_TICK_SECONDS))
    return plan


def blocked_environments() -> list[str]:
    """The Allegro environments whose client id is blocked after a 429 right now."""
    limiter = get_limiter()
    return [
        name
        for name, environment in configured_environments().items()
        if limiter.blocked_for(environment.client_id) > 0
    ]


# --------------------------------------------------------------------------- the tick


def dispatch_due_polls(*, limit: int = 10000) -> list[tuple[int, int]]:
    """Beat tick: compute the poll plan, then claim every pollable channel whose poll is due
    and enqueue its poll (after commit), the most lagging first (oldest successful poll). The
    claim pushes ``next_poll_at`` ahead, so a tick does not enqueue a channel twice while its
    poll waits in the queue, and a lost message (broker restart, killed worker) only delays the
    account until the claim expires. When the workers are so far behind that the claim expires
    with the message still queued, the account is claimed again; the message carries the time of
    its claim, and whichever of the two runs second finds a poll started after its claim and
    does nothing (``polled_since``).

    While Allegro blocks a client id after a 429, the accounts of its environment are not
    claimed: a poll would only meet the block. They stay due, and the first tick after the
    block claims every one of them at once, in the order of their lag — a 429 is not a failure
    and pushes nobody into backoff.

    Also restarts backfills that stopped making progress (crash recovery)."""
    if settings.SYNC_POLL_PLAN != "fixed":
        _store_plan(compute_plan())
    now = timezone.now()
    claim = timedelta(seconds=max(settings.SYNC_POLL_BUSY_SECONDS, settings.SYNC_POLL_TICK_SECONDS))
    dispatched: list[tuple[int, int]] = []
    with scopes_disabled():
        pollable = SalesChannel.objects.pollable()
        missing = pollable.exclude(sync_states__isnull=False).values_list("tenant_id", "pk")
        ChannelSyncState.objects.bulk_create(
            [
                ChannelSyncState(
                    tenant_id=tenant_id,
                    channel_id=channel_id,
                    poll_interval_seconds=int(settings.SYNC_POLL_BUSY_SECONDS),
                )
                for tenant_id, channel_id in missing
            ],
            ignore_conflicts=True,
        )
        with transaction.atomic():
            # Due now, or before the next tick: the latter are enqueued with a countdown, so an
            # account's rhythm is its interval, not its interval rounded up to the tick.
            horizon = now + timedelta(seconds=settings.SYNC_POLL_TICK_SECONDS)
            blocked = blocked_environments()
            due = list(
                ChannelSyncState.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(channel__in=pollable.exclude(allegro_environment__in=blocked))
                .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=horizon))
                .order_by(F("last_success_at").asc(nulls_first=True), "pk")
                .values_list("pk", "tenant_id", "channel_id", "next_poll_at")[:limit]
            )
            if due:
                ChannelSyncState.objects.filter(pk__in=[d[0] for d in due]).update(
                    next_poll_at=Greatest(Coalesce(F("next_poll_at"), Value(now)), Value(now))
                    + claim
                )
            for _pk, tenant_id, channel_id, next_poll_at in due:
                countdown = max(0.0, (next_poll_at - now).total_seconds()) if next_poll_at else 0
                dispatch_after_commit(
                    POLL_CHANNEL_TASK,
                    tenant_id,
                    channel_id,
                    countdown=countdown,
                    claimed_at=now.timestamp(),
                )
                dispatched.append((tenant_id, channel_id))

            stale = now - timedelta(seconds=settings.SYNC_BACKFILL_STALE_SECONDS)
            backfills = list(
                ChannelSyncState.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(
                    channel__in=pollable,
                    backfill_state__in=[BackfillState.PENDING, BackfillState.RUNNING],
                )
                .filter(Q(backfill_heartbeat_at__isnull=True) | Q(backfill_heartbeat_at__lt=stale))
                .order_by("pk")
                .values_list("pk", "tenant_id", "channel_id", "backfill_run")
            )
            if backfills:
                ChannelSyncState.objects.filter(pk__in=[b[0] for b in backfills]).update(
                    backfill_heartbeat_at=now
                )
            for _pk, tenant_id, channel_id, run in backfills:
                logger.info("Restarting the stalled backfill of channel %s", channel_id)
                dispatch_after_commit(BACKFILL_CHANNEL_TASK, tenant_id, channel_id, run)
    return dispatched


def polled_since(channel_id: int, claimed_at: float) -> bool:
    """Whether a poll of the channel started after the tick that claimed this poll: then the
    message is a second claim of the same turn (its poll waited in the queue longer than the
    claim, and the next tick claimed the account again), and polling once more would spend
    Allegro's budget and the workers' time on nothing new."""
    started = (
        ChannelSyncState.objects.filter(channel_id=channel_id)
        .values_list("last_poll_started_at", flat=True)
        .first()
    )
    return started is not None and started.timestamp() >= claimed_at


def channel_connected(channel: SalesChannel) -> None:
    """The channel was just connected (sync/receivers.py): poll it (and so bootstrap the cursor
    and start the backfill) now rather than at the next beat tick. Safe inside or outside a
    transaction (dispatch on commit).

    A fresh authorization also ends the error the account was in (typically the revocation
    that asked for it): the channel page stops showing it at once, not after the next fetch."""
    ensure_state(channel)
    ChannelSyncState.objects.filter(channel=channel).update(
        next_poll_at=timezone.now(), last_error="", consecutive_failures=0
    )
    dispatch_after_commit(POLL_CHANNEL_TASK, channel.tenant_id, channel.pk)
