"""The health of a channel's order sync, computed here once for every page that shows it (the
channel page, its refreshing card and the dashboard) and drawn by one partial,
templates/sync/_health.html: how fresh the channel's orders are (in words), the last problem,
the orders Allegro cannot serve, the forms that could not be imported, and the channel's orders
of today, last imported, needing attention or with data problems.

``health_of_channels`` reads all of it for any number of channels in a fixed number of queries
(each on a tenant-leading index), so a dashboard of many channels costs what one channel costs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, F, OuterRef, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber
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

# The order figures of a dashboard row, which a health also gives by key
# (health["needs_attention"]): the shape the dashboard's rows have always had.
ORDER_FIGURES = ("last_import", "needs_attention", "with_warnings")


@dataclass(frozen=True)
class BadForm:
    form_id: str
    problem: str  # in the language of the page
    at: datetime | None


@dataclass(frozen=True, eq=False)
class SyncHealth(Mapping[str, Any]):
    """One channel's sync health. Compares and reads by key as the mapping of its
    ``ORDER_FIGURES``; everything else is an attribute."""

    channel: SalesChannel
    state: ChannelSyncState | None
    orders_today: int
    last_import: datetime | None  # when the channel's newest order was imported
    needs_attention: int  # orders with an alert staff has not handled
    with_warnings: int  # orders imported with data problems
    lag_seconds: int | None  # since the last successful poll
    event_lag_seconds: int | None  # last poll vs. the newest event processed
    stale: bool  # no successful poll for a long time while connected
    stuck_total: int = 0
    stuck_forms: list[StuckCheckoutForm] = field(default_factory=list)  # oldest first, if asked

    def __getitem__(self, key: str) -> Any:
        if key not in ORDER_FIGURES:
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(ORDER_FIGURES)

    def __len__(self) -> int:
        return len(ORDER_FIGURES)

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
    """What the channel page shows about the sync, with the first stuck forms (scoped read)."""
    [health] = health_of_channels([channel], stuck_forms_shown=STUCK_FORMS_SHOWN)
    return health


def health_of_channels(
    channels: Sequence[SalesChannel], *, stuck_forms_shown: int = 0
) -> list[SyncHealth]:
    """The health of each channel, in the order given, in a fixed number of queries whatever
    the number of channels (scoped reads). ``stuck_forms_shown``: how many of each channel's
    stuck forms to list (oldest first); their total is always counted."""
    if not channels:
        return []
    ids = [channel.pk for channel in channels]
    now = timezone.now()
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    states = {s.channel_id: s for s in ChannelSyncState.objects.filter(channel_id__in=ids)}
    orders = Order.objects.filter(channel_id__in=ids)
    today = _per_channel(orders.filter(bought_at__gte=midnight))
    attention = _per_channel(orders.filter(needs_attention=True))
    warnings = _per_channel(orders.exclude(parse_warnings=[]))
    last_import = dict(
        SalesChannel.objects.filter(pk__in=ids)
        .annotate(
            last_import=Subquery(
                Order.objects.filter(tenant_id=OuterRef("tenant_id"), channel=OuterRef("pk"))
                .order_by("-imported_at")
                .values("imported_at")[:1]
            )
        )
        .values_list("pk", "last_import")
    )
    stuck = StuckCheckoutForm.objects.filter(channel_id__in=ids)
    stuck_totals = _per_channel(stuck)
    shown: dict[int, list[StuckCheckoutForm]] = {}
    if stuck_forms_shown > 0:
        ranked = stuck.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("channel_id"),
                order_by=[F("first_failed_at").asc(), F("pk").asc()],
            )
        ).filter(rank__lte=stuck_forms_shown)
        for row in ranked.order_by("channel_id", "first_failed_at", "pk"):
            shown.setdefault(row.channel_id, []).append(row)
    return [
        _health(
            channel,
            states.get(channel.pk),
            now,
            orders_today=today.get(channel.pk, 0),
            last_import=last_import.get(channel.pk),
            needs_attention=attention.get(channel.pk, 0),
            with_warnings=warnings.get(channel.pk, 0),
            stuck_total=stuck_totals.get(channel.pk, 0),
            stuck_forms=shown.get(channel.pk, []),
        )
        for channel in channels
    ]


def _per_channel(rows: QuerySet) -> dict[int, int]:
    return dict(
        rows.order_by()
        .values_list("channel_id")
        .annotate(n=Count("id"))
        .values_list("channel_id", "n")
    )


def _health(
    channel: SalesChannel, state: ChannelSyncState | None, now: datetime, **figures: Any
) -> SyncHealth:
    lag = event_lag = None
    stale = False
    if state is not None and state.last_success_at is not None:
        lag = max(0, int((now - state.last_success_at).total_seconds()))
        stale = channel.is_connected and lag > 3 * settings.SYNC_POLL_IDLE_MAX_SECONDS + 60
        if state.last_event_occurred_at is not None:
            event_lag = max(
                0, int((state.last_success_at - state.last_event_occurred_at).total_seconds())
            )
    return SyncHealth(
        channel, state, lag_seconds=lag, event_lag_seconds=event_lag, stale=stale, **figures
    )
