from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """What is sent to people: mailboxes, the mail outbox, the relay guard, template sets and
    the category guard, the seller's new-order mail, the customer zone."""

    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        from channels.signals import channel_connected
        from core.mail import connect_outbox
        from core.signals import tenant_created
        from fulfillment.signals import label_generated, shipment_added

        # tasks: the send tasks, by name, in every process.
        from notifications import receivers, tasks  # noqa: F401
        from notifications.registration import refresh_when_connected
        from notifications.timeline import mail_event_text
        from orders.events import register_describer
        from orders.models import OrderEventKind
        from orders.signals import orders_imported, statuses_entered

        connect_outbox(receivers.write_platform_mail)
        channel_connected.connect(refresh_when_connected, dispatch_uid="notifications.senders")
        # After orders' own receiver (INSTALLED_APPS order): the default sets name its statuses.
        tenant_created.connect(
            receivers.seed_template_sets_of_new_tenant, dispatch_uid="notifications.default_sets"
        )
        orders_imported.connect(
            receivers.mail_about_imported_orders, dispatch_uid="notifications.imported"
        )
        statuses_entered.connect(
            receivers.mail_about_status_entries, dispatch_uid="notifications.statuses"
        )
        shipment_added.connect(receivers.mail_about_shipment, dispatch_uid="notifications.shipment")
        label_generated.connect(receivers.mail_about_label, dispatch_uid="notifications.label")
        register_describer(OrderEventKind.MAIL, mail_event_text)
