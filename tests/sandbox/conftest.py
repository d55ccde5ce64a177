"""Fixtures for the sandbox tests: a seller connected through a client app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.sandbox.helpers import REDIRECT, Api
from tests.sandbox_support import SandboxControl


@dataclass
class Connected:
    sandbox: SandboxControl
    api: Api
    tokens: dict[str, Any]
    login: str = "anna"
    seller_id: str = "50000001"
    client_id: str = "app-1"
    secret: str = "secret-1"

    def api_for(self, token: str | None) -> Api:
        return Api(self.sandbox.base_url, token)


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
