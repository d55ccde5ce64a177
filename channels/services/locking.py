"""The account lock: the SalesChannel row, ``SELECT … FOR NO KEY UPDATE`` (of the row itself).

Every change of a channel's connection state or credential happens under it, so token refresh
is single-flight per account and state transitions (connected → needs re-authorization) happen
once. ``NO KEY`` lets rows referencing the channel (orders) be inserted meanwhile.
"""

from __future__ import annotations

from django.db import transaction

from channels.models import SalesChannel


def lock_channel(channel_id: int) -> SalesChannel:
    """Lock and return the channel (through the scoped manager). Needs an open transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("lock_channel() needs an open transaction")
    return SalesChannel.objects.select_for_update(no_key=True, of=("self",)).get(pk=channel_id)
