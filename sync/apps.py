from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SyncConfig(AppConfig):
    # Orders in: the floor above orders (docs/adr/0006-sync-app.md).
    name = "sync"
    verbose_name = _("Order sync")

    def ready(self) -> None:
        # The receivers connect themselves. The services dispatch their tasks by name
        # (sync/runkit.py), so every process registers the tasks here, not only the workers.
        from sync import receivers, tasks  # noqa: F401
