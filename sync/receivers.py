"""What the sync engine does when something happens on a floor below it (connected in
SyncConfig.ready)."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from channels.models import SalesChannel
from channels.signals import channel_connected
from sync import schedule


@receiver(channel_connected)
def fetch_orders_now(sender: type, channel: SalesChannel, **kwargs: Any) -> None:
    schedule.channel_connected(channel)
