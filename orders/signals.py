"""The hooks of orders that floors above listen to (orders imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent in the caller's transaction after orders' statuses changed, with ``changes=`` (a list of
# (order, previous status or None)), ``actor=`` and ``source=`` (orders.models.ChangeSource),
# only when Allegro may be told: never for a change that came from Allegro's own state, nor when
# the caller said not to. Fulfillment writes its outbox rows here (the push to Allegro).
status_changes_to_tell = Signal()

# Sent in the caller's transaction after every status change, whoever made it and whatever
# Allegro is told: ``changes=`` (a list of (order, previous status or None: just imported)),
# ``actor=``, ``source=``. Notifications queues its "status entered" mails here.
statuses_entered = Signal()

# Sent in the import's transaction after a batch of checkout forms was written, with
# ``channel=``, ``orders=`` (a list of (order, is_new): orders created or changed by the batch,
# not the unchanged ones) and ``backfill=`` (True when the batch came from a backfill or a
# re-import of past days rather than from the journal or a sweep). Notifications queues the
# seller's new-order mail and the "order imported" mails here.
orders_imported = Signal()
