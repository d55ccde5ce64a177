"""The event feed: the tenant's timeline entries in the order their transactions committed.

Positions are given by the database when the writing transaction commits (a deferred trigger,
migration api 0004; adr/0012), one after another per tenant and under the tenant's counter row
lock, so a reader that sees position n has already been able to see every position below it:
reading on from the last position it has never skips an entry, however the writers overlap.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from api.models import FeedEntry
from core.models import Tenant


@dataclass
class FeedPage:
    entries: list[FeedEntry] = field(default_factory=list)
    next: int = 0  # the position to read on from
    has_more: bool = False


def read(tenant: Tenant, after: int, limit: int) -> FeedPage:
    """Up to ``limit`` entries after position ``after``, oldest first (one query)."""
    rows = list(
        FeedEntry.objects.filter(tenant=tenant, position__gt=after)
        .select_related("event", "event__actor")
        .order_by("position")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return FeedPage(rows, rows[-1].position if rows else after, more)
