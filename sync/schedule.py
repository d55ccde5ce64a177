"""When each account is polled: the beat tick that claims the channels whose poll is due and
enqueues their polls (adaptive intervals are set by the poll itself, sync/poll.py), the restart
of backfills that stopped making progress, and polling a channel at once when it is connected.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django_scopes import scopes_disabled

from channels.models import SalesChannel
from core.tasks import dispatch_after_commit
from sync.models import BackfillState, ChannelSyncState
from sync.runkit import BACKFILL_CHANNEL_TASK, POLL_CHANNEL_TASK, ensure_state

logger = logging.getLogger(__name__)


def dispatch_due_polls(*, limit: int = 1000) -> list[tuple[int, int]]:
    """Beat tick: claim every pollable channel whose poll is due and enqueue its poll (after
    commit). The claim pushes ``next_poll_at`` one busy interval ahead, so a tick does not
    enqueue a channel twice while its poll waits in the queue, and a lost message (broker
    restart, killed worker) only delays the account until the claim expires. Also restarts
    backfills that stopped making progress (crash recovery)."""
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
            due = list(
                ChannelSyncState.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(channel__in=pollable)
                .filter(Q(next_poll_at__isnull=True) | Q(next_poll_at__lt=horizon))
                .order_by("pk")
                .values_list("pk", "tenant_id", "channel_id", "next_poll_at")[:limit]
            )
            if due:
                ChannelSyncState.objects.filter(pk__in=[d[0] for d in due]).update(
                    next_poll_at=Greatest(Coalesce(F("next_poll_at"), Value(now)), Value(now))
                    + claim
                )
            for _pk, tenant_id, channel_id, next_poll_at in due:
                countdown = max(0.0, (next_poll_at - now).total_seconds()) if next_poll_at else 0
                dispatch_after_commit(POLL_CHANNEL_TASK, tenant_id, channel_id, countdown=countdown)
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
