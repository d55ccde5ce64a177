from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """What is sent to people: mailboxes, the mail outbox, the relay guard."""

    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        # Imported here: an app's modules load only once every app is registered.
        from core.mail import connect_outbox
        from notifications import tasks  # noqa: F401  (the send tasks, by name, in every process)
        from notifications.receivers import write_platform_mail
        from notifications.timeline import mail_event_text
        from orders.events import register_describer
        from orders.models import OrderEventKind

        connect_outbox(write_platform_mail)
        register_describer(OrderEventKind.MAIL, mail_event_text)
