from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    """The seller's offers on every channel, their own products, and stock kept in step."""

    name = "catalog"
    verbose_name = _("Catalogue")
