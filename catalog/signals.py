"""What the catalogue tells the floors above (connected in their ``AppConfig.ready()``)."""

from django.dispatch import Signal

# A product's stock changed (by hand, by an order, by an import), in the change's transaction.
# Sent with ``product`` (the Product, its new stock set) and ``change`` (the ProductStockChange
# that says by how much and why).
stock_changed = Signal()
