"""Hooks of the fulfillment floor for the floors above (connected in their receivers.py;
fulfillment imports none of them). Each is sent in the transaction of what it tells.

``shipment_added`` — a shipment is saved on an order (by hand or from a label), with
``shipment=`` and ``actor=``. Notifications queues its "shipment added" mails here.

``label_generated`` — a label through Wysyłam z Allegro is ready: its shipment and waybills are
on the order. With ``job`` (fulfillment.LabelJob), ``order`` (orders.Order), ``shipment`` (the
first of its shipments), ``waybills`` (list of str) and ``actor``. Notifications queues its
"label generated" mails here.
"""

from __future__ import annotations

from django.dispatch import Signal

shipment_added = Signal()
label_generated = Signal()
