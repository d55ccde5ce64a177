"""Builders shared by the test suites, so each thing is made one way everywhere:

- ``channels``: sales channels (through the channel form's service, or a connected one directly);
- ``orders``: checkout forms as Allegro sends them, orders imported from them, statuses;
- ``connect``: the `local` Allegro environment pointed at the sandbox and a channel authorized
  through the real OAuth flow, as a seller does it;
- ``fulfillment``: a push of an order (the tenant-isolation test's object);
- ``po``: the one reader of PO files (the Polish catalogue and its fragments).
"""
