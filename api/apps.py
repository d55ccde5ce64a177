from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = _("REST API")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        # schema registers the Bearer key's description with drf-spectacular; tasks: the
        # webhook tasks, by name, in every process.
        from api import receivers, schema, tasks  # noqa: F401
        from catalog.signals import stock_changed
        from fulfillment.signals import label_generated, shipment_added
        from orders.signals import orders_imported, statuses_entered

        orders_imported.connect(receivers.orders_imported, dispatch_uid="api.webhooks.imported")
        statuses_entered.connect(receivers.statuses_entered, dispatch_uid="api.webhooks.statuses")
        shipment_added.connect(receivers.shipment_added, dispatch_uid="api.webhooks.shipment")
        label_generated.connect(receivers.label_generated, dispatch_uid="api.webhooks.label")
        stock_changed.connect(receivers.stock_changed, dispatch_uid="api.webhooks.stock")
