"""What the catalogue does when the floors below tell it something (connected in
``CatalogConfig.ready()``)."""

from __future__ import annotations

from typing import Any

from catalog.services.offers import start_first_sweep
from channels.models import SalesChannel


# --------------------------------------------------------------------------- offers
def import_offers_when_connected(sender: Any, channel: SalesChannel, **kwargs: Any) -> None:
    """channels.signals.channel_connected: the first authorization imports the offers."""
    start_first_sweep(channel)
