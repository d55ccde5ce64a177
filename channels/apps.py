from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ChannelsConfig(AppConfig):
    # Our sales channels. Django Channels (same import name) must never be installed.
    name = "channels"
    verbose_name = _("Sales channels")

    def ready(self) -> None:
        from channels import signals  # noqa: F401 - connects the receivers
