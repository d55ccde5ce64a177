"""Connecting an Allegro account: the OAuth authorization-code flow with PKCE.

``start_authorization`` binds a random ``state`` to the user's session *and* to the channel
(tenant, channel, environment, user), with a PKCE verifier, and returns Allegro's authorize
URL. ``complete_authorization`` handles the callback: the state is taken out of the session
first (so a replayed callback finds nothing), the code is exchanged exactly once, ``/me`` tells
who authorized, and only if that is the login typed in the form is anything stored, under the
channel's row lock. Any failure raises :class:`AuthorizationFailed` (a core.errors.UserError),
and stores nothing.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.backends.base import SessionBase
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroError,
    AllegroRateLimited,
    AllegroTransientError,
    TokenPair,
    UnknownEnvironment,
    get_environment,
)
from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.locking import lock_channel
from channels.services.tokens import store_pair_locked
from channels.signals import channel_connected
from core.errors import UserError
from core.models import Membership, Tenant

logger = logging.getLogger(__name__)

SESSION_KEY = "channels_allegro_oauth"
PENDING_TTL_SECONDS = 15 * 60
MAX_PENDING = 5


class AuthorizationFailed(UserError):
    """The authorization did not complete; ``tenant_slug`` and ``channel_id`` say, where known,
    which page the seller goes back to."""

    def __init__(
        self,
        message: str,
        *,
        code: str,
        tenant_slug: str = "",
        channel_id: int | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.tenant_slug = tenant_slug
        self.channel_id = channel_id


@dataclass(frozen=True)
class Connected:
    channel: SalesChannel
    tenant_slug: str
    reauthorized: bool


def _state_key(state: str) -> str:
    # The session holds a hash of the state, not the state itself.
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def _code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _pending(session: SessionBase) -> dict[str, dict[str, Any]]:
    now = time.time()
    pending = session.get(SESSION_KEY) or {}
    return {k: v for k, v in pending.items() if now - v.get("created", 0) < PENDING_TTL_SECONDS}


def start_authorization(*, session: SessionBase, user: User, channel: SalesChannel) -> str:
    """Remember a new state + PKCE verifier in the session; return Allegro's authorize URL."""
    try:
        environment = get_environment(channel.allegro_environment)
    except UnknownEnvironment:
        raise AuthorizationFailed(
            _(
                "The Allegro environment “%(name)s” of this channel is not configured on this "
                "server. Choose another environment in the channel settings."
            )
            % {"name": channel.allegro_environment},
            code="environment_unknown",
            channel_id=channel.pk,
        ) from None
    state = secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters (PKCE allows 43–128)
    pending = _pending(session)
    # Keep a few (several tabs), drop the oldest.
    for key in sorted(pending, key=lambda k: pending[k]["created"])[: -(MAX_PENDING - 1)]:
        del pending[key]
    pending[_state_key(state)] = {
        "tenant_id": channel.tenant_id,
        "channel_id": channel.pk,
        "environment": environment.name,
        "user_id": user.pk,
        "verifier": verifier,
        "created": time.time(),
    }
    session[SESSION_KEY] = pending
    return AllegroClient(environment).authorization_url(
        redirect_uri=settings.ALLEGRO_REDIRECT_URI,
        state=state,
        code_challenge=_code_challenge(verifier),
    )


def _take_pending(session: SessionBase, state: str) -> dict[str, Any] | None:
    """Remove and return the pending authorization for this state (single use)."""
    if not state:
        return None
    pending = _pending(session)
    entry = pending.pop(_state_key(state), None)
    session[SESSION_KEY] = pending
    return entry


def complete_authorization(
    *, session: SessionBase, user: User, params: Mapping[str, str]
) -> Connected:
    """Handle Allegro's redirect back (``code``/``error`` and ``state``). See module docstring."""
    entry = _take_pending(session, params.get("state", ""))
    if entry is None or entry.get("user_id") != user.pk:
        raise AuthorizationFailed(
            _(
                "This authorization link is not valid: it has expired, was already used or was "
                "not started by you. Open the sales channel and click “Authorize” again."
            ),
            code="state_invalid",
        )
    membership = (
        Membership.objects.select_related("tenant")
        .filter(user=user, tenant_id=entry["tenant_id"])
        .first()
    )
    if membership is None or not membership.is_administrator:
        raise AuthorizationFailed(
            _("Only an administrator of the company can connect accounts."),
            code="not_administrator",
        )
    tenant: Tenant = membership.tenant
    with scope(tenant=tenant):
        return _complete(tenant, entry, params)


def _complete(tenant: Tenant, entry: dict[str, Any], params: Mapping[str, str]) -> Connected:
    channel_id = entry["channel_id"]

    def fail(message: str, code: str) -> AuthorizationFailed:
        return AuthorizationFailed(
            message, code=code, tenant_slug=tenant.slug, channel_id=channel_id
        )

    channel = SalesChannel.objects.filter(pk=channel_id).first()
    if channel is None:
        raise AuthorizationFailed(
            _("The sales channel no longer exists."), code="channel_gone", tenant_slug=tenant.slug
        )
    error = params.get("error", "")
    if error:
        if error == "access_denied":
            raise fail(
                _(
                    "The authorization was cancelled on Allegro. Nothing was changed; click "
                    "“Authorize” when you are ready."
                ),
                "authorization_cancelled",
            )
        raise fail(
            _("Allegro did not authorize apilo (%(error)s). Nothing was changed; try again.")
            % {"error": error[:100]},
            "authorization_error",
        )
    if channel.allegro_environment != entry["environment"]:
        raise fail(
            _(
                "The channel's Allegro environment was changed during the authorization. Click "
                "“Authorize” again."
            ),
            "environment_changed",
        )
    code = params.get("code", "")
    if not code:
        raise fail(
            _("Allegro sent no authorization code. Click “Authorize” again."), "code_missing"
        )
    try:
        client = AllegroClient(get_environment(channel.allegro_environment))
    except UnknownEnvironment:
        raise fail(
            _("The Allegro environment of this channel is not configured on this server."),
            "environment_unknown",
        ) from None
    obtained_at = timezone.now()
    try:
        pair = client.exchange_code(
            code=code, redirect_uri=settings.ALLEGRO_REDIRECT_URI, code_verifier=entry["verifier"]
        )
        me = client.get_me(access_token=pair.access_token)
    except AllegroAuthRevoked:
        raise fail(
            _(
                "Allegro did not accept the authorization: the code was already used or has "
                "expired. Click “Authorize” again."
            ),
            "code_rejected",
        ) from None
    except (AllegroTransientError, AllegroRateLimited):
        raise fail(
            _(
                "Allegro is not answering right now. Nothing was changed; please try again in a "
                "minute."
            ),
            "allegro_unavailable",
        ) from None
    except AllegroError as exc:
        logger.warning(
            "Allegro refused the authorization of channel %s: %s (trace %s)",
            channel_id,
            exc.code or exc.status,
            exc.trace_id,
        )
        raise fail(
            _(
                "Allegro refused the authorization. Nothing was changed; if it happens again, "
                "tell your apilo operator (the server's Allegro application settings may be wrong)."
            ),
            "authorization_refused",
        ) from None
    login, seller_id = str(me["login"]), str(me["id"])
    if login.casefold() != channel.allegro_login.strip().casefold():
        raise fail(
            _(
                "You signed in to Allegro as “%(actual)s”, but this channel is for the Allegro "
                "login “%(expected)s”. Nothing was saved. Sign in to Allegro as "
                "“%(expected)s” (use “change account” on Allegro's page), or correct the "
                "login in the channel settings, then click “Authorize” again."
            )
            % {"actual": login, "expected": channel.allegro_login},
            "login_mismatch",
        )
    return _store(tenant, channel_id, pair, login, seller_id, obtained_at, fail)


def _store(
    tenant: Tenant,
    channel_id: int,
    pair: TokenPair,
    login: str,
    seller_id: str,
    obtained_at: datetime,
    fail: Callable[[str, str], AuthorizationFailed],
) -> Connected:
    try:
        with transaction.atomic(durable=True):
            channel = lock_channel(channel_id)
            if channel.connected_seller_id and channel.connected_seller_id != seller_id:
                raise fail(
                    _(
                        "This channel is connected to another Allegro account (seller id "
                        "%(id)s). Add a new sales channel for a different account."
                    )
                    % {"id": channel.connected_seller_id},
                    "other_seller",
                )
            other = (
                SalesChannel.objects.filter(
                    allegro_environment=channel.allegro_environment, connected_seller_id=seller_id
                )
                .exclude(pk=channel.pk)
                .first()
            )
            if other is not None:
                raise fail(
                    _(
                        "The Allegro account “%(login)s” is already connected as the sales channel "
                        "“%(name)s”. Nothing was saved."
                    )
                    % {"login": login, "name": other.name},
                    "account_connected_elsewhere",
                )
            reauthorized = channel.connection_state == ConnectionState.NEEDS_REAUTH
            cred = AllegroCredential.objects.filter(channel=channel).first()
            if cred is None:
                cred = AllegroCredential(tenant=tenant, channel=channel, version=0)
            store_pair_locked(cred, pair, obtained_at=obtained_at)
            channel.connection_state = ConnectionState.CONNECTED
            channel.connected_login = login
            channel.connected_seller_id = seller_id
            channel.connected_at = obtained_at
            channel.needs_reauth_since = None
            channel.needs_reauth_reason = ""
            channel.last_contact_at = obtained_at
            channel.save()
    except IntegrityError:
        raise fail(
            _(
                "This Allegro account is already connected to another sales channel. Nothing was "
                "saved."
            ),
            "account_connected_elsewhere",
        ) from None
    logger.info(
        "Channel %s of tenant %s connected to Allegro seller %s", channel_id, tenant.pk, seller_id
    )
    # The floors above start their work now (the sync engine fetches orders, fulfillment the
    # carriers) instead of waiting for the next beat tick.
    with scope(tenant=tenant):
        channel_connected.send(sender=SalesChannel, channel=channel)
    return Connected(channel=channel, tenant_slug=tenant.slug, reauthorized=reauthorized)
