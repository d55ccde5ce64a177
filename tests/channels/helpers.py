"""What the sales-channel tests share: the Fernet key, the sandbox client app and seller, the
channel form they fill in, and how they read a page's messages."""

from __future__ import annotations

import re
from typing import Any

from cryptography.fernet import Fernet

from tests.sandbox_support import SandboxControl
from tests.support.connect import register_sandbox_app

# Fixed per test session; tests that rotate keys add their own.
TEST_FERNET_KEY = Fernet.generate_key().decode()
CLIENT_ID = "apilo-test"
SELLER_LOGIN = "anna-sklep"
SELLER_PASSWORD = "anna-password-1"
SELLER_ID = "50000001"
# The channel form of these tests (tests.support.channels.make_channel).
CHANNEL = {
    "name": "Allegro – główne konto",
    "alias": "AL",
    "allegro_login": SELLER_LOGIN,
    "backfill_days": 30,
}

# Client secrets handed out during the session; no log line may ever contain one.
KNOWN_SECRETS: list[str] = []
# Every token the sandbox issues is a JWT ("eyJ…"); no log line may contain one either.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


def configure_environment(settings, sandbox: SandboxControl, redirect_uri: str, **app: Any):
    env = register_sandbox_app(
        settings, sandbox, client_id=CLIENT_ID, redirect_uri=redirect_uri, **app
    )
    KNOWN_SECRETS.append(env.client_secret)
    # A production environment without a client id: the form must not offer it.
    settings.ALLEGRO_ENVIRONMENTS = {
        "production": {
            "auth_url": "https://allegro.pl",
            "api_url": "https://api.allegro.pl",
            "client_id": "",
            "client_secret": "",
        },
        **settings.ALLEGRO_ENVIRONMENTS,
    }
    return env


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []
