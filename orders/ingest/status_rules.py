"""Order states in (DESIGN §4): which status an imported order gets, and what a changed form of
a known order does to its status. Every change made here comes from Allegro's own state and is
followed up with source ALLEGRO, so none of them is pushed back to Allegro."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.models import Tenant
from orders import events
from orders.changes import ChangeSource
from orders.ingest.batch import Work
from orders.models import AllegroStatus, Order, OrderEvent, OrderStatus, StatusGroup, SystemStatus

if TYPE_CHECKING:
    from channels.models import SalesChannel

_NEEDED_CODES = (SystemStatus.UNCONFIRMED, SystemStatus.NEW, SystemStatus.CANCELLED)


@dataclass
class Statuses:
    by_code: dict[str, OrderStatus]
    import_status: OrderStatus

    @property
    def unconfirmed(self) -> OrderStatus:
        return self.by_code[SystemStatus.UNCONFIRMED]

    @property
    def cancelled(self) -> OrderStatus:
        return self.by_code[SystemStatus.CANCELLED]


def load_statuses(tenant: Tenant, channel: SalesChannel) -> Statuses:
    chosen_id = channel.import_status_id
    for _attempt in range(2):
        wanted = OrderStatus.objects.filter(tenant=tenant, system_code__in=_NEEDED_CODES)
        if chosen_id:
            wanted = wanted | OrderStatus.objects.filter(tenant=tenant, pk=chosen_id)
        rows = list(wanted)
        by_code = {s.system_code: s for s in rows if s.system_code}
        if all(code in by_code for code in _NEEDED_CODES):
            break
        # A tenant without its built-ins (never seeded): seed them, as the import needs them.
        from orders.statuses import seed_default_statuses

        seed_default_statuses(tenant)
    chosen = next((s for s in rows if chosen_id and s.pk == chosen_id), None)
    return Statuses(by_code=by_code, import_status=import_status_for(channel, by_code, chosen))


def import_status_for(
    channel: SalesChannel,
    by_code: dict[str, OrderStatus],
    chosen: OrderStatus | None = None,
) -> OrderStatus:
    """The status a newly paid (READY_FOR_PROCESSING) order of this channel lands in.

    The channel's `import_status` when set and active; otherwise the tenant's SystemStatus.NEW
    status ("Nowe").
    """
    if chosen is not None and chosen.is_active:
        return chosen
    return by_code[SystemStatus.NEW]


def is_shipped(status: OrderStatus) -> bool:
    """Shipped: a completed-tab status that is not a cancellation or a return (built-in SENT
    or a tenant's own, e.g. "Dostarczone")."""
    return status.group == StatusGroup.COMPLETED and status.system_code not in (
        SystemStatus.CANCELLED,
        SystemStatus.RETURNED,
    )


def initial_status(allegro_status: str, statuses: Statuses) -> OrderStatus:
    """A new order's status: paid → the channel's import status; cancelled → cancelled;
    bought / filled in / unknown → unconfirmed (its data may still change)."""
    if allegro_status == AllegroStatus.READY_FOR_PROCESSING:
        return statuses.import_status
    if allegro_status == AllegroStatus.CANCELLED:
        return statuses.cancelled
    return statuses.unconfirmed


def set_status(order: Order, new: OrderStatus, work: Work) -> None:
    previous = order.status
    order.status = new
    work.events.append(events.status_change(order, previous, new, None, ChangeSource.ALLEGRO))
    work.hooks.append((order, previous))
    work.moves.append((previous.pk, new.pk))


def alert(order: Order, entry: OrderEvent, work: Work) -> None:
    order.needs_attention = True
    work.events.append(entry)


def apply_allegro_changes(
    order: Order,
    previous_allegro: str,
    previous_fulfillment: str,
    statuses: Statuses,
    work: Work,
) -> bool:
    """React to a changed form of a known order; True if a timeline entry says what changed.

    - READY_FOR_PROCESSING: unconfirmed → the channel's import status; any other status means
      staff already moved the order on, and it stays. A repeated RFP changes nothing.
    - CANCELLED: → cancelled, unless the order was already shipped: then an alert on the
      timeline and `needs_attention`, never a silent overwrite.
    - The fulfillment status is Allegro's own field: recorded, not mapped to our status.
    """
    now = order.updated_at
    said = False
    if order.allegro_status != previous_allegro:
        said = True
        work.events.append(
            events.allegro_status_change(order, previous_allegro, order.allegro_status, now)
        )
        _follow_allegro_status(order, statuses, work)
    if order.fulfillment_status != previous_fulfillment:
        said = True
        work.events.append(
            events.fulfillment_status_change(
                order, previous_fulfillment, order.fulfillment_status, now
            )
        )
    return said


def _follow_allegro_status(order: Order, statuses: Statuses, work: Work) -> None:
    """The status a known order moves to now that Allegro's status of it changed."""
    if order.allegro_status == AllegroStatus.READY_FOR_PROCESSING:
        if order.status_id == statuses.unconfirmed.pk:
            set_status(order, statuses.import_status, work)
    elif order.allegro_status == AllegroStatus.CANCELLED:
        if order.status.system_code == SystemStatus.CANCELLED:
            pass
        elif is_shipped(order.status):
            entry = events.cancelled_after_shipping(order, order.status.name, order.updated_at)
            alert(order, entry, work)
        else:
            set_status(order, statuses.cancelled, work)
