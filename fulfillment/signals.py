"""Hooks of the fulfillment floor for the floors above (connected in their receivers.py).

``label_generated`` — a label through Wysyłam z Allegro is ready: its shipment and waybills are
on the order. Sent in the transaction that records it, with ``job`` (fulfillment.LabelJob),
``order`` (orders.Order) and ``waybills`` (list of str). Notifications connects to it to mail
the buyer the tracking number.
"""

from __future__ import annotations

from django.dispatch import Signal

label_generated = Signal()
