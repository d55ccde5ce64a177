"""Labels through Wysyłam z Allegro (REFERENCE §10; adr/0009).

* ``accounts`` — the courier accounts (Administracja → Kurierzy): writing and validating them.
* ``proposals`` — Allegro's delivery proposal of an order (prefill and limits), fetched by a
  task and kept in the cache for the label page, which never calls Allegro itself.
* ``inputs`` — the shipment Allegro is asked to create: parcels, the comment on the label, the
  limits checked before sending.
* ``jobs`` — a label's life: written as a ``LabelJob`` (the outbox row), its create command sent
  with a deterministic id and polled as Allegro's ``Retry-After`` says, waybills read, the
  file fetched and stored; then the shipment on the order, its timeline, SENT through the push
  outbox and the ``label_generated`` signal. Cancelling, and retrying after an ERROR.
* ``batches`` — labels of many orders in one file (and the batch's handover protocol);
  ``protocols`` — the handover protocol of a day's labels; ``pickups`` — courier pickups.
* ``explain`` — Allegro's errors for staff, with our own words for the opaque ones.
"""
