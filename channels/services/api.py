"""Calling the Allegro REST API on behalf of a channel: the token dance around the client.

``call()`` gets a valid token (refreshing when due), makes the call, and on a 401 refreshes once
(single-flight) and retries; a second 401 means the grant is dead and the account moves to
"re-authorization needed". A successful call records ``last_contact_at`` (at most once a minute
per channel, so a busy account does not write on every call).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroResponse,
    AllegroUnauthorized,
)
from channels.models import SalesChannel
from channels.services.tokens import (
    client_for,
    get_access_token,
    mark_needs_reauth,
    refresh_access_token,
)

CONTACT_RESOLUTION = timedelta(seconds=60)


def call(
    channel: SalesChannel,
    method: str,
    path: str,
    *,
    params: Mapping[str, Any] | None = None,
    json: Any = None,
    client: AllegroClient | None = None,
) -> AllegroResponse:
    """One API call for the channel. Raises the client's error classes (AllegroAuthRevoked when
    the account needs re-authorization). Must not run inside a transaction."""
    client = client or client_for(channel)
    context = {"tenant": channel.tenant_id, "channel": channel.pk}
    token = get_access_token(channel.pk, client=client)
    try:
        response = client.request(
            method, path, access_token=token.value, params=params, json=json, log_context=context
        )
    except AllegroUnauthorized:
        token = refresh_access_token(
            channel.pk, seen_version=token.version, force=True, client=client
        )
        try:
            response = client.request(
                method,
                path,
                access_token=token.value,
                params=params,
                json=json,
                log_context=context,
            )
        except AllegroUnauthorized as exc:
            mark_needs_reauth(channel.pk, reason=f"401 {exc.code} after a refresh".strip())
            raise AllegroAuthRevoked(
                "Allegro keeps answering 401", status=exc.status, code=exc.code
            ) from None
    record_contact(channel.pk)
    return response


def record_contact(channel_id: int) -> None:
    """Remember the last successful contact with Allegro (one write a minute at most)."""
    now = timezone.now()
    SalesChannel.objects.filter(pk=channel_id).filter(
        Q(last_contact_at__isnull=True) | Q(last_contact_at__lt=now - CONTACT_RESOLUTION)
    ).update(last_contact_at=now)
