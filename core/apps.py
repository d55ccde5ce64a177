from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Tenancy and accounts")

    def ready(self) -> None:
        # Imported here: registers the system checks once every app is loaded.
        from core import checks  # noqa: F401
