from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FulfillmentConfig(AppConfig):
    """Changes flowing out to the marketplace: status mappings, shipments, the push outbox."""

    name = "fulfillment"
    verbose_name = _("Fulfillment")
