"""The hooks of fulfillment that floors above listen to (fulfillment imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent in add_shipment's transaction once the shipment is saved, with ``shipment=`` and
# ``actor=``. Notifications queues its "shipment added" mails here.
shipment_added = Signal()

# Sent in the transaction that stores a generated shipping label, with ``shipment=`` and
# ``actor=``. Notifications queues its "label generated" mails here; labels are sent from the
# label service when it stores one.
label_generated = Signal()
