from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The seller's offers on every channel, their own products, and stock kept in step."""

    name = "catalog"
    verbose_name = _("Catalogue")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        from catalog.receivers import import_offers_when_connected
        from channels.signals import channel_connected

        # offers
        channel_connected.connect(import_offers_when_connected, dispatch_uid="catalog.offers")
