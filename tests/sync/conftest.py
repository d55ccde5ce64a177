"""Fixtures of the order-sync tests: the `local` Allegro environment pointing at the sandbox, a
seller, a channel connected through the real OAuth flow, and Celery processes that know the
sandbox (same idea as tests/channels/conftest.py, kept separate on purpose)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from channels.models import SalesChannel
from tests.sandbox_support import SandboxControl
from tests.support.channels import make_channel
from tests.support.connect import REDIRECT_URI, SandboxApp, connect, register_sandbox_app
from tests.sync.helpers import CHANNEL, CLIENT_ID, SELLER, SELLER_ID, SELLER_PASSWORD


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


@pytest.fixture
def channel(tenant, admin_user, sync_env) -> SalesChannel:
    """A channel of tenant "alfa" connected to the sandbox seller (no backfill)."""
    return connect(make_channel(tenant, CHANNEL), admin_user, SELLER_PASSWORD)
