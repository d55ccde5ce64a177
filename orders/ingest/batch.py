"""What every write of the ingest shares: the parsed forms of a batch, what the batch writes
(gathered before the bulk statements run), the channel's lock and the tenant guard."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django_scopes import get_scope

from core.locking import lock_name, lock_until_commit
from core.models import CrossTenantWrite, Tenant
from orders.allegro_form import ParsedForm
from orders.models import Order, OrderEvent, OrderLine, OrderStatus

if TYPE_CHECKING:
    from channels.models import SalesChannel

# A channel's upserts take an advisory lock; the concurrency test switches it off to show what
# it prevents.
_LOCK_CHANNEL = True


@dataclass
class Item:
    """One checkout form of a batch: parsed, cleaned for storage, and its hash."""

    index: int
    parsed: ParsedForm
    raw: Any
    hash: str

    @property
    def external_id(self) -> str:
        return self.parsed.external_id


@dataclass
class Work:
    """What one batch writes, gathered before the bulk statements run."""

    events: list[OrderEvent] = field(default_factory=list)
    hooks: list[tuple[Order, OrderStatus | None]] = field(default_factory=list)
    # (status left or None for a new order, status entered): for the per-status counts.
    moves: list[tuple[int | None, int]] = field(default_factory=list)
    new_lines: list[OrderLine] = field(default_factory=list)
    changed_lines: list[OrderLine] = field(default_factory=list)
    deleted_line_ids: list[int] = field(default_factory=list)
    saved_orders: list[Order] = field(default_factory=list)


def count_deltas(work: Work) -> dict[int, int]:
    """Per-status count changes of a batch: one order entering a status (and leaving another,
    unless it was just imported) per move."""
    deltas: dict[int, int] = defaultdict(int)
    for left, entered in work.moves:
        deltas[entered] += 1
        if left is not None:
            deltas[left] -= 1
    return dict(deltas)


def ensure_scope_allows(tenant: Tenant) -> None:
    active = get_scope()
    if active.get("_enabled", False):
        scoped = active.get("tenant")
        if getattr(scoped, "pk", scoped) != tenant.pk:
            raise CrossTenantWrite("Orders of one tenant imported inside another tenant's scope.")


def lock_channel(tenant: Tenant, channel: SalesChannel) -> None:
    """Serialise upserts of one channel until the transaction ends (poll vs. sweep)."""
    if _LOCK_CHANNEL:
        lock_until_commit(lock_name("orders.ingest", tenant.pk, channel.pk))
