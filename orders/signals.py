"""The hooks of orders that floors above listen to (orders imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent in the caller's transaction after orders' statuses changed, with ``changes=`` (a list of
# (order, previous status or None)), ``actor=`` and ``source=`` (orders.models.ChangeSource),
# only when Allegro may be told: never for a change that came from Allegro's own state, nor when
# the caller said not to. Fulfillment writes its outbox rows here (the push to Allegro).
status_changes_to_tell = Signal()
