from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The seller's offers on every channel, their own products, and stock kept in step."""

    name = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        from catalog import receivers
        from orders.signals import orders_imported

        # --- products and linking
        orders_imported.connect(
            receivers.link_imported_order_lines, dispatch_uid="catalog.order_line_links"
        )
