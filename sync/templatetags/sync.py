"""Template tags of the sync engine, for pages other apps render: the channel page (channels,
a floor below sync, which never imports it) draws its sync-health card with

    {% load sync %}{% channel_health channel as health %}{% include "sync/_health.html" %}
"""

from __future__ import annotations

from django import template

from channels.models import SalesChannel
from sync.health import SyncHealth, health_of

register = template.Library()


@register.simple_tag
def channel_health(channel: SalesChannel) -> SyncHealth:
    """The channel's sync health (database reads only: no call to Allegro while rendering)."""
    return health_of(channel)
