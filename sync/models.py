"""What the sync engine keeps about each channel: the journal cursor, the poll schedule and
health, the backfill's progress and the reconciliation's findings (``ChannelSyncState``, one row
per channel), and the checkout forms Allegro cannot serve (``StuckCheckoutForm``).

One row per channel beside ``SalesChannel``, not columns on it, so the account lock (the channel
row, taken by token refreshes) and the sync bookkeeping never contend (docs/adr/0003). The rows
moved here from channels with their tables (docs/adr/0006): channels never reads them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from channels.models import SalesChannel
from core.models import TenantOwnedModel


class PollOutcome(models.TextChoices):
    NEVER = "", _("Not polled yet")
    OK = "ok", _("OK")
    PARTIAL = "partial", _("Interrupted, will continue")
    FAILED = "failed", _("Failed")


class BackfillState(models.TextChoices):
    NONE = "", _("Not started")
    PENDING = "pending", _("Waiting to start")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Finished")
    FAILED = "failed", _("Stopped with an error")


class ChannelSyncState(TenantOwnedModel):
    """What the sync engine knows about one channel: the journal cursor, the poll schedule and
    health, the backfill's progress and the reconciliation's findings.

    Written only by sync/poll.py, schedule.py, backfill.py and reconcile.py. The cursor moves in
    the same transaction as the orders it covers.
    """

    channel = models.ForeignKey(
        SalesChannel, on_delete=models.CASCADE, related_name="sync_states", db_index=False
    )

    # --- Journal cursor: the id of the last /order/events event processed ("" = from the
    # oldest retained event, which is right only for a journal that was empty at bootstrap).
    cursor = models.CharField(max_length=32, blank=True, default="")
    cursor_bootstrapped_at = models.DateTimeField(null=True, blank=True)
    # "<environment>:<seller id>" the cursor belongs to: another account (the channel's
    # environment was changed and it was authorized again) starts over.
    cursor_account = models.CharField(max_length=64, blank=True, default="")
    # occurredAt of the last processed event (for the lag shown on the channel page).
    last_event_occurred_at = models.DateTimeField(null=True, blank=True)

    # --- Poll schedule and health.
    next_poll_at = models.DateTimeField(null=True, blank=True)
    poll_interval_seconds = models.PositiveIntegerField(default=15)
    last_poll_started_at = models.DateTimeField(null=True, blank=True)
    last_poll_at = models.DateTimeField(null=True, blank=True)
    last_poll_outcome = models.CharField(
        max_length=10, choices=PollOutcome.choices, blank=True, default=PollOutcome.NEVER
    )
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_poll_events = models.PositiveIntegerField(default=0)
    last_poll_orders = models.PositiveIntegerField(default=0)
    last_poll_requests = models.PositiveIntegerField(default=0)
    # How many times the cursor moved (one per committed batch of events).
    cursor_advances = models.PositiveBigIntegerField(default=0)
    events_processed = models.PositiveBigIntegerField(default=0)
    consecutive_failures = models.PositiveIntegerField(default=0)
    # The last problem, in words a seller understands (never a token or a response body).
    last_error = models.CharField(max_length=500, blank=True, default="")
    last_error_at = models.DateTimeField(null=True, blank=True)
    # Checkout forms that could not be imported (or disappeared), newest first:
    # [{"id", "error", "at"}], at most BAD_FORMS_KEPT.
    bad_forms = models.JSONField(default=list, blank=True)
    bad_forms_total = models.PositiveIntegerField(default=0)

    # --- Backfill (first connection) and re-import of a date range.
    backfill_state = models.CharField(
        max_length=10, choices=BackfillState.choices, blank=True, default=BackfillState.NONE
    )
    # +1 for every new backfill: a task of an older run stops at its next page.
    backfill_run = models.PositiveIntegerField(default=0)
    backfill_from = models.DateTimeField(null=True, blank=True)
    backfill_to = models.DateTimeField(null=True, blank=True)
    # Keyset position: the purchase time of the last form imported, and how many forms with
    # exactly that time were already imported (ties).
    backfill_position = models.DateTimeField(null=True, blank=True)
    backfill_position_offset = models.PositiveIntegerField(default=0)
    backfill_total = models.PositiveIntegerField(default=0)
    backfill_done = models.PositiveIntegerField(default=0)
    backfill_created = models.PositiveIntegerField(default=0)
    backfill_failed = models.PositiveIntegerField(default=0)
    backfill_started_at = models.DateTimeField(null=True, blank=True)
    backfill_heartbeat_at = models.DateTimeField(null=True, blank=True)
    backfill_finished_at = models.DateTimeField(null=True, blank=True)
    backfill_error = models.CharField(max_length=500, blank=True, default="")

    # --- Reconciliation sweeps.
    last_reconcile_at = models.DateTimeField(null=True, blank=True)
    last_reconcile_window_hours = models.PositiveIntegerField(default=0)
    last_reconcile_checked = models.PositiveIntegerField(default=0)
    # Orders the journal had missed: not in the database, or in another state than Allegro's.
    last_reconcile_missing = models.PositiveIntegerField(default=0)
    last_reconcile_missing_ids = models.JSONField(default=list, blank=True)
    reconcile_missing_total = models.PositiveIntegerField(default=0)
    last_reconcile_error = models.CharField(max_length=500, blank=True, default="")
    # The short sweep (forms changed in the last minutes); its findings also count in
    # reconcile_missing_total.
    last_short_sweep_at = models.DateTimeField(null=True, blank=True)
    last_short_sweep_checked = models.PositiveIntegerField(default=0)
    last_short_sweep_missing = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)

    BAD_FORMS_KEPT = 20

    class Meta:
        db_table = "channels_channelsyncstate"  # the table it had in channels (ADR 0006)
        verbose_name = _("channel sync state")
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel"], name="channelsyncstate_tenant_ch"
            ),
        ]

    def __str__(self) -> str:
        return f"sync state of channel {self.channel_id} (cursor {self.cursor or '-'})"

    @property
    def backfill_active(self) -> bool:
        return self.backfill_state in (BackfillState.PENDING, BackfillState.RUNNING)

    @property
    def backfill_percent(self) -> int:
        if self.backfill_state == BackfillState.DONE:
            return 100
        if not self.backfill_total:
            return 0
        return min(100, int(self.backfill_done * 100 / self.backfill_total))


class StuckCheckoutForm(TenantOwnedModel):
    """A checkout form Allegro answers 5xx for while it serves the rest of the account (it has
    done so for single orders for hours). The journal poll sets it aside here and moves its
    cursor on; the poll retries the form on its own with backoff (``next_retry_at``), and the
    reconciliation sweeps (which read forms through the list endpoint) pick it up too. The row
    goes when the form is imported, or when Allegro answers 404 (merged away or removed).

    Written only by the sync engine (sync/poll.py; reconcile.py and backfill.py take forms off
    the list), under the channel's sync-state row lock.
    """

    channel = models.ForeignKey(
        SalesChannel, on_delete=models.CASCADE, related_name="stuck_forms", db_index=False
    )
    form_id = models.CharField(max_length=64)
    first_failed_at = models.DateTimeField()
    last_attempt_at = models.DateTimeField()
    # HTTP status of Allegro's last answer for the form (a 5xx; empty: no answer in time).
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=1)
    next_retry_at = models.DateTimeField()

    class Meta:
        db_table = "channels_stuckcheckoutform"  # the table it had in channels (ADR 0006)
        verbose_name = _("checkout form Allegro cannot serve")
        ordering = ["first_failed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["tenant", "channel", "form_id"], name="stuckcheckoutform_tenant_ch_form"
            ),
        ]
        indexes = [
            models.Index(
                fields=["tenant", "channel", "next_retry_at"], name="stuckform_tenant_ch_retry"
            ),
        ]

    def __str__(self) -> str:
        return f"stuck checkout form {self.form_id} of channel {self.channel_id}"

    @property
    def last_answer_words(self) -> str:
        """Allegro's last answer for the form, for the channel page."""
        if self.last_status is None:
            return gettext("Allegro did not answer in time")
        if self.last_status in (502, 503, 504):
            return gettext("Allegro was unavailable")
        if self.last_status == 500:
            return gettext("internal error at Allegro")
        return gettext("error at Allegro")
