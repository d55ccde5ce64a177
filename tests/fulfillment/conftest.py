"""Fixtures of the fulfillment tests: the `local` Allegro environment pointing at the sandbox, a
seller with orders, and a channel connected through the real OAuth flow (same idea as
tests/channels/conftest.py and tests/sync/conftest.py, kept separate on purpose)."""

from __future__ import annotations

import pytest

from channels.models import SalesChannel
from tests.fulfillment.helpers import CHANNEL, SELLER_PASSWORD, PushEnv, configure
from tests.sandbox_support import SandboxControl
from tests.support.channels import make_channel
from tests.support.connect import connect


@pytest.fixture
def push_env(allegro_sandbox: SandboxControl, settings) -> PushEnv:
    return configure(allegro_sandbox, settings)


@pytest.fixture
def channel(tenant, admin_user, push_env) -> SalesChannel:
    """A channel of tenant "alfa" connected to the sandbox seller, passing shipment info."""
    return connect(make_channel(tenant, CHANNEL), admin_user, SELLER_PASSWORD)
