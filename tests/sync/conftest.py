"""Fixtures of the order-sync tests: the `local` Allegro environment pointing at the sandbox, a
seller, a channel connected through the real OAuth flow, and Celery processes that know the
sandbox (same idea as tests/channels/conftest.py, kept separate on purpose)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

import pytest
from django_scopes import scope, scopes_disabled

from channels.models import ChannelSyncState, SalesChannel
from channels.services.channels import create_channel
from core.models import Tenant
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
class SyncEnv:
    sandbox: SandboxControl
    client_id: str
    client_secret: str
    seller: str = SELLER

    def worker_env(self, **extra: Any) -> dict[str, str]:
        """Environment of a Celery process that reaches this sandbox."""
        env = {
            "ALLEGRO_LOCAL_AUTH_URL": self.sandbox.base_url,
            "ALLEGRO_LOCAL_API_URL": self.sandbox.base_url,
            "ALLEGRO_LOCAL_CLIENT_ID": self.client_id,
            "ALLEGRO_LOCAL_CLIENT_SECRET": self.client_secret,
            "ALLEGRO_REDIRECT_URI": REDIRECT_URI,
        }
        env.update({k: str(v) for k, v in extra.items()})
        return env


@pytest.fixture
def allegro_app_options() -> dict[str, Any]:
    """Options of the sandbox client app (a module overrides it, e.g. a short token TTL)."""
    return {}


@pytest.fixture
def sync_env(allegro_sandbox: SandboxControl, settings, allegro_app_options) -> SyncEnv:
    secret = "sekret-" + secrets.token_urlsafe(16)
    allegro_sandbox.create_client_app(
        CLIENT_ID, secret, [REDIRECT_URI], name="apilo", **allegro_app_options
    )
    allegro_sandbox.create_seller(SELLER, SELLER_PASSWORD, id=SELLER_ID, offers=10)
    settings.ALLEGRO_ENVIRONMENTS = {
        "local": {
            "auth_url": allegro_sandbox.base_url,
            "api_url": allegro_sandbox.base_url,
            "client_id": CLIENT_ID,
            "client_secret": secret,
        }
    }
    settings.ALLEGRO_REDIRECT_URI = REDIRECT_URI
    # Tests never wait for backoffs: retries of a GET pause at most a fraction of a second.
    settings.SYNC_RECONCILE_GRACE_SECONDS = 0
    return SyncEnv(allegro_sandbox, CLIENT_ID, secret)


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
