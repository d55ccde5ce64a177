"""Allegro checkout form → order: the idempotent upsert the sync engine builds on.

API (all functions enter the channel's tenant scope themselves and work inside a caller's
transaction, e.g. the poll that advances its journal cursor in the same transaction):

- `upsert_order_from_checkout_form(channel, form, fetched_at=None, backfill=False) -> UpsertResult`
- `upsert_orders_from_checkout_forms(channel, forms, fetched_at=None, backfill=False)
  -> BatchResult` — for polls, sweeps and backfill: a handful of queries per batch, not per
  order. Never raises for a bad form: each form gets an UpsertResult (created / updated /
  unchanged / failed with the reason). ``backfill``: past orders imported on request, which
  mail nobody. ``fetched_at``: when the forms were asked for; a form read before our own push
  confirmed the order's fulfillment status does not undo it (`upsert._keep_pushed_fulfillment`).
- `mark_order_merged(channel, old_external_id, new_external_id) -> bool` — Allegro merged
  purchases (the old form answers 404): link the old order to the new one and close it.
- `allocate_order_numbers(tenant, alias, count) -> list[str]` — AL + yymm + 6-digit sequence.

The package along its seams: `numbers` (the per-tenant counter), `status_rules` (which status an
imported or updated order gets, DESIGN §4), `upsert` (one batch of checkout forms), `merges`
(merged purchases), `batch` (what a batch carries and writes, the channel lock) and `results`.
Callers import from the package only.

Idempotency: Order is unique on (tenant, channel, external_id), OrderLine on (tenant, order,
line id); upserts of one channel are serialised by a transaction-scoped advisory lock keyed on
(tenant, channel), so a journal poll and a reconciliation sweep of the same account never race.
A form whose sha256 equals the stored one is skipped without any write.

Every status change made here comes from Allegro's own state and is followed up with source
ALLEGRO, so none of them is pushed back to Allegro (orders.changes.after_status_change).
"""

from orders.ingest.merges import mark_order_merged
from orders.ingest.numbers import allocate_order_numbers, numbering_timezone
from orders.ingest.results import BatchResult, Outcome, UpsertResult
from orders.ingest.status_rules import import_status_for
from orders.ingest.upsert import upsert_order_from_checkout_form, upsert_orders_from_checkout_forms

__all__ = [
    "BatchResult",
    "Outcome",
    "UpsertResult",
    "allocate_order_numbers",
    "import_status_for",
    "mark_order_merged",
    "numbering_timezone",
    "upsert_order_from_checkout_form",
    "upsert_orders_from_checkout_forms",
]
