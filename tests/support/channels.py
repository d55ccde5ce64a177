"""Sales channels for tests: made by the channel form's service, or stored connected at once."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django_scopes import scope

from channels.models import ConnectionState, SalesChannel
from channels.services.channels import create_channel
from core.models import Tenant


def make_channel(
    tenant: Tenant, form: Mapping[str, Any] | None = None, **fields: Any
) -> SalesChannel:
    """A channel as the Allegro channel form creates it (not connected yet): a suite's own form
    (name, alias, allegro_login…) and then ``fields`` over a `local`-environment channel
    without backfill."""
    data: dict[str, Any] = {
        "name": "Allegro",
        "alias": "AL",
        "allegro_login": "sprzedawca",
        "allegro_environment": "local",
        "backfill_days": 0,
    }
    data.update(form or {})
    data.update(fields)
    with scope(tenant=tenant):
        return create_channel(tenant=tenant, data=data)


def channel_of(tenant: Tenant, alias: str = "AL", name: str = "Allegro główne") -> SalesChannel:
    """The tenant's channel with this alias, stored as connected (no Allegro behind it: for
    imports of forms the test hands in)."""
    with scope(tenant=tenant):
        channel, _created = SalesChannel.objects.get_or_create(
            tenant=tenant,
            alias=alias,
            defaults={
                "name": name,
                "allegro_login": f"sklep_{tenant.slug}",
                "allegro_environment": "local",
                "connection_state": ConnectionState.CONNECTED,
            },
        )
    return channel
