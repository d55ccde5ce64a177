"""The push outbox: changes that must reach Allegro, written with the change, sent after it.

The modules, along the way a push goes:

* ``outbox`` — writing, inside the caller's transaction: ``queue_status_pushes`` (from
  ``orders.signals.status_changes_to_tell``, for every status change by people whose new
  status is mapped to an Allegro fulfillment status; a change that came from Allegro's own
  state, through the import, is never pushed back), ``queue_shipment_push`` (from
  ``services.shipments.add_shipment`` when the channel passes shipment information) and
  ``retry_push`` (a person presses Retry). Each dispatches ``fulfillment.tasks.push_order`` with
  ``core.tasks.dispatch_after_commit``.
* ``sender`` — sending (``process_orders``, in a task, outside any transaction): one sender per
  order at a time, under a PostgreSQL session advisory lock keyed by (tenant, order) and held
  across the HTTP calls. It takes the orders' pending rows in id order (= commit order: every
  writer holds the order row's lock), supersedes every status row but the latest, and sends
  the rest one by one. Outcomes: 2xx → sent; transient (network, 5xx) → retried with backoff;
  429 → retried when the client id's block ends; 422 and other 4xx → failed, shown on the order
  and the channel, never retried automatically; not connected → waits for authorization. A
  transient failure stops the order's queue (later rows wait: pushes go out in order).
* ``kinds`` — what one row sends, through the Allegro client's typed endpoints:
  a status (``set_fulfillment_status``, only when Allegro does not already have it: REFERENCE
  §7.8, 100 changes per order, ever; the form is read first when a superseded or failed push
  may have changed Allegro unrecorded; a 409 re-reads the form, imports it and retries) or a
  shipment (``add_shipment``; when an earlier try may have reached Allegro, or on a 409,
  ``list_shipments`` first, so a retry never creates a second shipment).
* ``outcomes`` — writing what happened: the row's state, its timeline entry, and what Allegro now
  has. Echo suppression: after a successful PUT the order's ``fulfillment_status`` and stored
  ``raw_form`` get the new status (and ``form_hash`` follows), so when Allegro's
  FULFILLMENT_STATUS_CHANGED event for our own change comes back through the journal, the re-read
  form equals what is stored and the import writes nothing.
* ``sweeper`` — ``sweep_due``: the beat sweeper re-dispatches rows that are due, so a lost
  message only delays a push.
* ``reasons`` — a push's problem in the seller's words.

Cost (bench/push_cost.py): one task sends many orders — a bulk change's batch, or the orders
whose own tasks are overdue in the queue (``take_waiting``) — with one statement each for the
locks, the rows, the orders and the token, and the outcomes of lone status pushes written
together in one transaction at the end.

What other code uses is imported from here.
"""

from __future__ import annotations

from fulfillment.services.push.outbox import (
    dispatch,
    dispatch_many,
    queue_sent_push,
    queue_shipment_push,
    queue_status_pushes,
    retry_push,
)
from fulfillment.services.push.reasons import reason_text
from fulfillment.services.push.sender import ProcessResult, process_order, process_orders
from fulfillment.services.push.sweeper import sweep_due

__all__ = [
    "ProcessResult",
    "dispatch",
    "dispatch_many",
    "process_order",
    "process_orders",
    "queue_sent_push",
    "queue_shipment_push",
    "queue_status_pushes",
    "reason_text",
    "retry_push",
    "sweep_due",
]
