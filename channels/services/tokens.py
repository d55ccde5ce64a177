"""Access tokens that never get lost: proactive, single-flight refresh under the account lock.

Rules (DESIGN §4, Allegro REFERENCE §1.3 and pitfall 6):

* An access token is used only while it has at least ``min_validity`` left; it is refreshed
  proactively ``margin`` before it expires (``ALLEGRO_TOKEN_REFRESH_MARGIN_SECONDS``, capped at
  half the token's lifetime).
* A refresh runs under the channel's row lock, re-reads the credential after locking (another
  worker may have refreshed meanwhile: then its token is used, no second refresh), and commits
  the new pair before anyone uses it. Allegro retires the old refresh token 60 s after its first
  use, so two refreshes racing would lose the account; the lock makes that impossible.
* ``invalid_grant`` moves the account to "re-authorization needed" under the same lock, once;
  administrators are e-mailed after commit (channels/services/notifications.py).
* These functions open their own durable transaction: they must not be called inside another
  one, or a new pair could be used before it is committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroRateLimited,
    AllegroTransientError,
    TokenPair,
    get_environment,
)
from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.locking import lock_channel
from channels.services.notifications import queue_reauth_mails

logger = logging.getLogger(__name__)


class ChannelNotConnected(AllegroAuthRevoked):
    """The channel has no usable authorization (never connected, or needs re-authorization)."""


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)
    version: int
    expires_at: datetime


def client_for(channel: SalesChannel) -> AllegroClient:
    return AllegroClient(get_environment(channel.allegro_environment))


def _lifetime(cred: AllegroCredential) -> float:
    return max(0.0, (cred.access_expires_at - cred.access_issued_at).total_seconds())


def refresh_margin(cred: AllegroCredential) -> timedelta:
    """Refresh this long before expiry: the configured margin, at most half the lifetime."""
    return timedelta(
        seconds=min(settings.ALLEGRO_TOKEN_REFRESH_MARGIN_SECONDS, _lifetime(cred) / 2)
    )


def min_validity(cred: AllegroCredential) -> timedelta:
    """Never send a token with less than this left (a call may take a while to arrive)."""
    return timedelta(seconds=min(30.0, _lifetime(cred) / 4))


def is_usable(cred: AllegroCredential, now: datetime) -> bool:
    return cred.access_expires_at - now > min_validity(cred)


def is_due(cred: AllegroCredential, now: datetime) -> bool:
    return cred.access_expires_at - now <= refresh_margin(cred)


def _token(cred: AllegroCredential) -> AccessToken:
    return AccessToken(cred.access_token, cred.version, cred.access_expires_at)


def _credential(channel_id: int) -> AllegroCredential | None:
    return AllegroCredential.objects.filter(channel_id=channel_id).first()


def get_access_token(channel_id: int, *, client: AllegroClient | None = None) -> AccessToken:
    """A valid access token for the channel, refreshing it (single-flight) when due.

    Raises ChannelNotConnected, AllegroAuthRevoked (the account just moved to
    needs-re-authorization), AllegroTransientError or AllegroRateLimited.
    """
    cred = AllegroCredential.objects.select_related("channel").filter(channel_id=channel_id).first()
    if cred is None or cred.channel.connection_state != ConnectionState.CONNECTED:
        raise ChannelNotConnected(f"Channel {channel_id} is not connected")
    if not is_due(cred, timezone.now()):
        return _token(cred)
    return refresh_access_token(channel_id, seen_version=cred.version, client=client)


def refresh_access_token(
    channel_id: int,
    *,
    seen_version: int | None,
    force: bool = False,
    client: AllegroClient | None = None,
) -> AccessToken:
    """Refresh under the account lock unless someone else already did.

    ``seen_version`` is the credential version the caller based its decision on; if the row has
    a newer, usable version after locking, that token is returned without calling Allegro.
    ``force`` refreshes even a token that is not due (after a 401 from the API).
    """
    revoked: AllegroAuthRevoked | None = None
    with transaction.atomic(durable=True):
        channel = lock_channel(channel_id)
        if channel.connection_state != ConnectionState.CONNECTED:
            raise ChannelNotConnected(f"Channel {channel_id} is not connected")
        cred = _credential(channel_id)  # re-read after locking
        if cred is None:
            raise ChannelNotConnected(f"Channel {channel_id} has no credential")
        now = timezone.now()
        if cred.version != seen_version and is_usable(cred, now):
            return _token(cred)
        if not force and not is_due(cred, now):
            return _token(cred)
        client = client or client_for(channel)
        try:
            pair = client.refresh(refresh_token=cred.refresh_token)
        except AllegroAuthRevoked as exc:
            mark_needs_reauth_locked(channel, reason="invalid_grant on refresh")
            revoked = exc
        except (AllegroTransientError, AllegroRateLimited):
            if not force and is_usable(cred, now):
                # A proactive refresh failed but the current token still has time: use it and
                # let a later call refresh.
                logger.warning("Proactive token refresh failed for channel %s", channel_id)
                return _token(cred)
            raise
        else:
            store_pair_locked(cred, pair, obtained_at=now)
            return _token(cred)
    # Committed: the account is now "needs re-authorization".
    raise revoked


def store_pair_locked(cred: AllegroCredential, pair: TokenPair, *, obtained_at: datetime) -> None:
    """Persist a new pair (caller holds the channel lock; commits before the token is used)."""
    cred.access_token = pair.access_token
    if pair.refresh_token:
        cred.refresh_token = pair.refresh_token
    cred.access_issued_at = obtained_at
    cred.access_expires_at = obtained_at + timedelta(seconds=pair.expires_in)
    if pair.scope:
        cred.scopes = pair.scope
    cred.version += 1
    cred.refreshed_at = obtained_at
    cred.save()


def reauth_reason_in_words(reason: str) -> tuple[str, str]:
    """(the seller's words, the raw code) for a stored ``needs_reauth_reason``."""
    if not reason:
        return "", ""
    if reason.startswith("invalid_grant"):
        return gettext("Allegro rejected the token — authorize again"), "invalid_grant"
    if reason.startswith("401"):
        return (
            gettext("Allegro stopped accepting apilo's access — authorize again"),
            reason.removesuffix(" after a refresh"),
        )
    return gettext("Allegro no longer accepts the authorization — authorize again"), reason


def mark_needs_reauth_locked(channel: SalesChannel, *, reason: str) -> bool:
    """connected → needs_reauth (caller holds the lock). True if this call made the transition.

    The dead tokens are deleted; every administrator is e-mailed once (the mails are written
    into the outbox in this transaction).
    """
    if channel.connection_state != ConnectionState.CONNECTED:
        return False
    AllegroCredential.objects.filter(channel=channel).delete()
    channel.connection_state = ConnectionState.NEEDS_REAUTH
    channel.needs_reauth_since = timezone.now()
    channel.needs_reauth_reason = reason[:200]
    channel.save(
        update_fields=[
            "connection_state",
            "needs_reauth_since",
            "needs_reauth_reason",
            "updated_at",
        ]
    )
    logger.warning(
        "Channel %s of tenant %s needs re-authorization (%s)", channel.pk, channel.tenant_id, reason
    )
    queue_reauth_mails(channel)
    return True


def mark_needs_reauth(channel_id: int, *, reason: str) -> bool:
    with transaction.atomic(durable=True):
        return mark_needs_reauth_locked(lock_channel(channel_id), reason=reason)
