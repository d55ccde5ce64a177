from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    """Changes flowing out to the marketplace: status mappings, shipments, the push outbox."""

    name = "fulfillment"
    verbose_name = _("Fulfillment")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        from channels.signals import channel_connected
        from fulfillment.receivers import queue_pushes_of_status_changes
        from fulfillment.services.carriers import refresh_when_connected
        from fulfillment.timeline import fulfillment_event_text, label_event_text
        from orders.events import register_describer
        from orders.models import OrderEventKind
        from orders.signals import status_changes_to_tell

        channel_connected.connect(refresh_when_connected, dispatch_uid="fulfillment.carriers")
        status_changes_to_tell.connect(
            queue_pushes_of_status_changes, dispatch_uid="fulfillment.status_pushes"
        )
        # The order page's sentences for our timeline entries (orders.events explains why).
        register_describer(OrderEventKind.FULFILLMENT_PUSH, fulfillment_event_text)
        register_describer(OrderEventKind.SHIPMENT_ADDED, fulfillment_event_text)
        register_describer(OrderEventKind.LABEL, label_event_text)
