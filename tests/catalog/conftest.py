"""Fixtures of the catalogue tests: the `local` Allegro environment pointing at the sandbox, a
seller without offers (each test makes its own), and a channel connected through the real
OAuth flow (which starts the first offer sweep)."""

from __future__ import annotations

from typing import Any

import pytest

from channels.models import SalesChannel
from tests.catalog.helpers_offers import CHANNEL, CLIENT_ID, SELLER, SELLER_ID, SELLER_PASSWORD
from tests.sandbox_support import SandboxControl
from tests.support.channels import make_channel
from tests.support.connect import REDIRECT_URI, SandboxApp, connect, register_sandbox_app


@pytest.fixture
def catalog_env(allegro_sandbox: SandboxControl, settings) -> SandboxApp:
    app = register_sandbox_app(
        settings,
        allegro_sandbox,
        client_id=CLIENT_ID,
        redirect_uri=REDIRECT_URI,
        access_token_ttl=400 * 86400,
    )
    allegro_sandbox.create_seller(SELLER, SELLER_PASSWORD, id=SELLER_ID, offers=0)
    return app


@pytest.fixture
def connect_channel(tenant, admin_user, catalog_env) -> Any:
    """Connect the tenant's channel (call it after giving the seller offers)."""

    def run(**form: Any) -> SalesChannel:
        return connect(make_channel(tenant, {**CHANNEL, **form}), admin_user, SELLER_PASSWORD)

    return run
