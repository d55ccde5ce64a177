"""Keep per-tenant cached views of sales channels fresh, and tell the apps above when an
account is connected."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from channels.context_processors import reauth_banner_key
from channels.models import SalesChannel

# Sent (with ``channel``) when an OAuth callback has connected or re-authorized a channel, after
# the new tokens are committed. The hook through which apps above channels start their own work
# for the account (fulfillment fetches its carriers) without channels importing them.
channel_connected = Signal()


@receiver(post_save, sender=SalesChannel)
@receiver(post_delete, sender=SalesChannel)
def forget_reauth_banner(sender: type, instance: SalesChannel, **kwargs: Any) -> None:
    key = reauth_banner_key(instance.tenant_id)
    # After commit, so a page rendered meanwhile cannot cache the old state again.
    transaction.on_commit(lambda: cache.delete(key))
