"""Fixtures for the sandbox tests: a seller connected through a client app."""

from __future__ import annotations

import pytest

from tests.sandbox.helpers import REDIRECT, Api, Connected
from tests.sandbox_support import SandboxControl


@pytest.fixture
def connected(allegro_sandbox: SandboxControl) -> Connected:
    sb = allegro_sandbox
    sb.create_seller("anna", "pass-anna", id="50000001", offers=25)
    # long-lived access tokens so tests can move the clock by days (expiry has own tests)
    sb.create_client_app(
        "app-1", "secret-1", [REDIRECT], name="Test app", access_token_ttl=400 * 86400
    )
    tokens = sb.connect_seller("anna", "app-1", "secret-1", REDIRECT)
    return Connected(sb, Api(sb.base_url, tokens["access_token"]), tokens)
