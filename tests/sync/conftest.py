"""Fixtures of the order-sync tests: the `local` Allegro environment pointing at the sandbox, a
seller, a channel connected through the real OAuth flow, and Celery processes that know the
sandbox (same idea as tests/channels/conftest.py, kept separate on purpose)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from channels.services.channels import create_channel
from core.models import Tenant
from sync.models import ChannelSyncState
from tests.allegro_support import SandboxApp, register_sandbox_app
from tests.allegro_support import connect as connect_channel
from tests.celery_support import (
    wait_until,  # noqa: F401 - the tests import it from here
)
from tests.sandbox_support import SandboxControl

CLIENT_ID = "apilo-sync-test"
REDIRECT_URI = "http://testserver/channels/allegro/callback/"
SELLER = "sync-seller"
SELLER_PASSWORD = "sync-password-1"
SELLER_ID = "60000001"


@dataclass
class SyncEnv(SandboxApp):
    seller: str = SELLER


@pytest.fixture
def allegro_app_options() -> dict[str, Any]:
    """Options of the sandbox client app (a module overrides it, e.g. a short token TTL)."""
    return {}


@pytest.fixture
def sync_env(allegro_sandbox: SandboxControl, settings, allegro_app_options) -> SyncEnv:
    app = register_sandbox_app(
        settings,
        allegro_sandbox,
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        **allegro_app_options,
    )
    allegro_sandbox.create_seller(SELLER, SELLER_PASSWORD, id=SELLER_ID, offers=10)
    # Tests never wait for backoffs: retries of a GET pause at most a fraction of a second.
    settings.SYNC_RECONCILE_GRACE_SECONDS = 0
    return SyncEnv(app.sandbox, app.client_id, app.client_secret, app.redirect_uri)


def make_channel(tenant: Tenant, **overrides: Any) -> SalesChannel:
    data = {
        "name": "Allegro sync",
        "alias": "AS",
        "allegro_login": SELLER,
        "allegro_environment": "local",
        "backfill_days": 0,
    }
    data.update(overrides)
    with scope(tenant=tenant):
        return create_channel(tenant=tenant, data=data)


def connect(channel: SalesChannel, admin_user, login: str = SELLER) -> SalesChannel:
    """Authorize the channel through the real flow: Authorize → sandbox login → callback."""
    return connect_channel(channel, admin_user, login, SELLER_PASSWORD)


@pytest.fixture
def channel(tenant, admin_user, sync_env) -> SalesChannel:
    """A channel of tenant "alfa" connected to the sandbox seller (no backfill)."""
    return connect(make_channel(tenant), admin_user)


def state_of(channel: SalesChannel) -> ChannelSyncState:
    with scopes_disabled():
        return ChannelSyncState.objects.get(channel_id=channel.pk)


def state_or_none(channel: SalesChannel) -> ChannelSyncState | None:
    with scopes_disabled():
        return ChannelSyncState.objects.filter(channel_id=channel.pk).first()
