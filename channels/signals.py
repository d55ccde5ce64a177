"""Signals of sales channels: the hook floors above channels listen to, and the receivers that
keep per-tenant cached views of sales channels fresh."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from channels.context_processors import reauth_banner_key
from channels.models import SalesChannel

# Sent (with ``channel=``, inside the tenant's scope, after the OAuth callback's transaction) when
# a channel has been connected or re-authorized: the hook through which the floors above start
# their own work for the account (sync/receivers.py fetches its orders at once, fulfillment its
# carriers) while channels itself knows nothing of them.
channel_connected = Signal()


@receiver(post_save, sender=SalesChannel)
@receiver(post_delete, sender=SalesChannel)
def forget_reauth_banner(sender: type, instance: SalesChannel, **kwargs: Any) -> None:
    key = reauth_banner_key(instance.tenant_id)
    # After commit, so a page rendered meanwhile cannot cache the old state again.
    transaction.on_commit(lambda: cache.delete(key))
