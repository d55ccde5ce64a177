from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("Orders")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        from core.signals import tenant_created
        from orders.receivers import seed_statuses_of_new_tenant

        tenant_created.connect(seed_statuses_of_new_tenant, dispatch_uid="orders.default_statuses")
