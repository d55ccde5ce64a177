from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    """Changes flowing out to the marketplace: status mappings, shipments, the push outbox."""

    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self) -> None:
        from channels.signals import channel_connected
        from fulfillment.services.carriers import refresh_when_connected

        channel_connected.connect(refresh_when_connected, dispatch_uid="fulfillment.carriers")
