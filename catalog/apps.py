from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The seller's offers on every channel, their own products, and stock kept in step."""

    name = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        # Connected here, not at import: the receivers import the services and their models.
        from catalog import receivers, tasks  # noqa: F401  (tasks: registered in every process)
        from channels.signals import channel_connected
        from orders.signals import orders_imported, statuses_entered

        # offers
        channel_connected.connect(
            receivers.import_offers_when_connected, dispatch_uid="catalog.offers"
        )

        # products and linking: order lines get their offer and product first …
        orders_imported.connect(
            receivers.link_imported_order_lines, dispatch_uid="catalog.order_line_links"
        )

        # … stock: then paid orders take their products' goods.
        orders_imported.connect(receivers.take_sold_stock, dispatch_uid="catalog.stock.sold")
        statuses_entered.connect(
            receivers.give_back_cancelled_stock, dispatch_uid="catalog.stock.restored"
        )
        channel_connected.connect(receivers.resume_stock_push, dispatch_uid="catalog.stock.resume")
