"""The health of a channel's order sync, as the channel page and the dashboard show it: how
fresh its orders are (in words), the last problem, the orders Allegro cannot serve and the forms
that could not be imported."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import ngettext_lazy

from channels.models import SalesChannel
from orders.models import Order
from sync.models import ChannelSyncState, StuckCheckoutForm
from sync.runkit import parse_time, stored_text_in_words

# Each unit with the amount below which it is used, then days; the plural form is chosen by
# "count" when the text is formatted.
_LAG_UNITS = (
    (
        1,
        60,
        ngettext_lazy(
            "orders up to date as of %(count)s second ago",
            "orders up to date as of %(count)s seconds ago",
            "count",
        ),
    ),
    (
        60,
        60,
        ngettext_lazy(
            "orders up to date as of %(count)s minute ago",
            "orders up to date as of %(count)s minutes ago",
            "count",
        ),
    ),
    (
        3600,
        48,
        ngettext_lazy(
            "orders up to date as of %(count)s hour ago",
            "orders up to date as of %(count)s hours ago",
            "count",
        ),
    ),
)
_LAG_DAYS = ngettext_lazy(
    "orders up to date as of %(count)s day ago",
    "orders up to date as of %(count)s days ago",
    "count",
)


def lag_in_words(seconds: int) -> str:
    """How fresh the channel's orders are, e.g. "orders up to date as of 26 seconds ago" (in
    Polish "zamówienia aktualne: sprzed 26 sekund"), in the largest unit that fits."""
    for size, below, text in _LAG_UNITS:
        amount = seconds // size
        if amount < below:
            return str(text % {"count": amount})
    return str(_LAG_DAYS % {"count": seconds // 86400})


STUCK_FORMS_SHOWN = 10


@dataclass(frozen=True)
class BadForm:
    form_id: str
    problem: str  # in the language of the page
    at: datetime | None


@dataclass(frozen=True)
class SyncHealth:
    state: ChannelSyncState | None
    orders_today: int
    lag_seconds: int | None  # since the last successful poll
    event_lag_seconds: int | None  # last poll vs. the newest event processed
    stale: bool  # no successful poll for a long time while connected
    stuck_forms: list[StuckCheckoutForm] = field(default_factory=list)  # oldest first
    stuck_total: int = 0

    @property
    def lag_words(self) -> str:
        return lag_in_words(self.lag_seconds) if self.lag_seconds is not None else ""

    @property
    def last_error_words(self) -> str:
        return stored_text_in_words(self.state.last_error) if self.state is not None else ""

    @property
    def bad_forms(self) -> list[BadForm]:
        entries = self.state.bad_forms if self.state is not None else []
        return [
            BadForm(
                str(entry.get("id", "")),
                stored_text_in_words(str(entry.get("error", ""))),
                parse_time(entry.get("at")),
            )
            for entry in entries or []
            if isinstance(entry, dict)
        ]


def health_of(channel: SalesChannel) -> SyncHealth:
    """What the channel page shows about the sync (scoped read)."""
    state = ChannelSyncState.objects.filter(channel=channel).first()
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    orders_today = Order.objects.filter(channel=channel, bought_at__gte=midnight).count()
    lag = event_lag = None
    stale = False
    if state is not None and state.last_success_at is not None:
        lag = max(0, int((now - state.last_success_at).total_seconds()))
        stale = channel.is_connected and lag > 3 * settings.SYNC_POLL_IDLE_MAX_SECONDS + 60
        if state.last_event_occurred_at is not None:
            event_lag = max(
                0, int((state.last_success_at - state.last_event_occurred_at).total_seconds())
            )
    stuck = StuckCheckoutForm.objects.filter(channel=channel).order_by("first_failed_at", "pk")
    stuck_forms = list(stuck[:STUCK_FORMS_SHOWN])
    stuck_total = len(stuck_forms) if len(stuck_forms) < STUCK_FORMS_SHOWN else stuck.count()
    return SyncHealth(state, orders_today, lag, event_lag, stale, stuck_forms, stuck_total)
