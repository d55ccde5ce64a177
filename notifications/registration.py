"""The sender addresses registered on each channel's Allegro account: read and registered
through /account/additional-emails by tasks, stored as SenderRegistration (the one writer),
read by the relay guard and the channel page (never Allegro while a page renders).

A channel authorized before apilo asked for `allegro:api:profile:write` cannot register an
address: the page says it needs to be authorized again, in words.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from channels.clients.allegro import (
    AllegroAdditionalEmail,
    AllegroClient,
    AllegroError,
    AllegroPermanentError,
)
from channels.models import AllegroCredential, SalesChannel
from channels.services.api import on_behalf
from core.tasks import dispatch_after_commit
from notifications.models import SenderRegistration
from notifications.outbox import platform_from_address

logger = logging.getLogger("notifications.registration")

READ_SCOPE = "allegro:api:profile:read"
WRITE_SCOPE = "allegro:api:profile:write"
REFRESH_TASK = "notifications.refresh_sender_addresses"
REGISTER_TASK = "notifications.register_sender_address"


class Problem:
    NO_READ_SCOPE = "no_read_scope"
    NO_WRITE_SCOPE = "no_write_scope"
    NOT_CONNECTED = "not_connected"
    REFUSED = "refused"
    UNAVAILABLE = "unavailable"


def problem_text(code: str) -> str:
    return {
        Problem.NO_READ_SCOPE: _(
            "The channel was authorized before apilo asked Allegro for its sender addresses: "
            "authorize it again to check them."
        ),
        Problem.NO_WRITE_SCOPE: _(
            "The channel was authorized before apilo asked Allegro for permission to register "
            "sender addresses: authorize it again, then register the address."
        ),
        Problem.NOT_CONNECTED: _("The channel is not connected to Allegro."),
        Problem.REFUSED: _("Allegro refused the address (it is not a valid e-mail address)."),
        Problem.UNAVAILABLE: _("Allegro could not be asked; apilo will try again."),
    }.get(code, code)


def sender_address(channel: SalesChannel) -> str:
    """The address customer mail of the channel goes out from (its mailbox, or the platform's)."""
    mailbox = channel.mailbox
    return mailbox.from_address if mailbox is not None else platform_from_address()


def _granted(channel: SalesChannel) -> set[str]:
    scopes = (
        AllegroCredential.objects.filter(channel=channel).values_list("scopes", flat=True).first()
    )
    return set((scopes or "").split())


def missing_scope_problem(channel: SalesChannel) -> str:
    """The problem code of an authorization without the profile scopes ("" if it has them)."""
    granted = _granted(channel)
    if READ_SCOPE not in granted:
        return Problem.NO_READ_SCOPE
    if WRITE_SCOPE not in granted:
        return Problem.NO_WRITE_SCOPE
    return ""


def _store(
    channel: SalesChannel, addresses: list[AllegroAdditionalEmail] | None, problem: str = ""
) -> SenderRegistration:
    now = timezone.now()
    values: dict[str, Any] = {"problem": problem, "problem_at": now if problem else None}
    if addresses is not None:
        values["addresses"] = {a.email.strip().lower(): a.id for a in addresses}
        values["refreshed_at"] = now
    with transaction.atomic():
        registration, _created = SenderRegistration.objects.update_or_create(
            tenant_id=channel.tenant_id, channel=channel, defaults=values
        )
    return registration


def refresh(channel_id: int) -> SenderRegistration | None:
    """Read the channel's registered sender addresses from Allegro and store them."""
    channel = SalesChannel.objects.select_related("mailbox").filter(pk=channel_id).first()
    if channel is None:
        return None
    if not channel.is_connected:
        return _store(channel, None, Problem.NOT_CONNECTED)
    if READ_SCOPE not in _granted(channel):
        return _store(channel, None, Problem.NO_READ_SCOPE)
    try:
        addresses = on_behalf(channel, AllegroClient.list_additional_emails)
    except AllegroError as error:
        logger.warning("sender addresses of channel %s not read: %s", channel_id, error)
        problem = Problem.NO_READ_SCOPE if error.status == 403 else Problem.UNAVAILABLE
        return _store(channel, None, problem)
    return _store(channel, addresses)


def register(channel_id: int) -> SenderRegistration | None:
    """Register the channel's sender address on its Allegro account (if it is not yet), then
    store the list as Allegro has it."""
    channel = SalesChannel.objects.select_related("mailbox").filter(pk=channel_id).first()
    if channel is None:
        return None
    if not channel.is_connected:
        return _store(channel, None, Problem.NOT_CONNECTED)
    if WRITE_SCOPE not in _granted(channel):
        return _store(channel, None, Problem.NO_WRITE_SCOPE)
    address = sender_address(channel)
    try:
        addresses = on_behalf(channel, AllegroClient.list_additional_emails)
        if not any(a.email.strip().lower() == address.lower() for a in addresses):
            added = on_behalf(channel, AllegroClient.add_additional_email, address)
            addresses = [*addresses, added]
    except AllegroPermanentError as error:
        logger.warning("sender address of channel %s not registered: %s", channel_id, error)
        problem = Problem.NO_WRITE_SCOPE if error.status == 403 else Problem.REFUSED
        return _store(channel, None, problem)
    except AllegroError as error:
        logger.warning("sender address of channel %s not registered: %s", channel_id, error)
        return _store(channel, None, Problem.UNAVAILABLE)
    return _store(channel, addresses)


def connected_channels() -> list[tuple[int, int]]:
    """(tenant id, channel id) of every connected channel (beat's system query)."""
    with scopes_disabled():
        return list(SalesChannel.objects.pollable().values_list("tenant_id", "id"))


def request_refresh(channel: SalesChannel) -> None:
    dispatch_after_commit(REFRESH_TASK, channel.tenant_id, channel.pk)


def request_registration(channel: SalesChannel) -> None:
    dispatch_after_commit(REGISTER_TASK, channel.tenant_id, channel.pk)


def refresh_when_connected(sender: Any, channel: SalesChannel, **kwargs: Any) -> None:
    """channels.signals.channel_connected: read the account's sender addresses."""
    request_refresh(channel)
