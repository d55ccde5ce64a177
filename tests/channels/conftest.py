"""Fixtures of the sales-channel tests: Fernet keys, an Allegro environment pointing at the
sandbox (over HTTP), sandbox sellers, and helpers that drive the real OAuth flow."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django_scopes import scope

from channels.models import SalesChannel
from channels.services.channels import create_channel
from tests.allegro_support import SandboxApp, register_sandbox_app, sandbox_login, start
from tests.sandbox_support import SandboxControl

# Fixed per test session; tests that rotate keys add their own.
TEST_FERNET_KEY = Fernet.generate_key().decode()
CLIENT_ID = "apilo-test"
REDIRECT_URI = "http://testserver/channels/allegro/callback/"
SELLER_LOGIN = "anna-sklep"
SELLER_PASSWORD = "anna-password-1"
SELLER_ID = "50000001"


# Client secrets handed out during the session; no log line may ever contain one.
KNOWN_SECRETS: list[str] = []
# Every token the sandbox issues is a JWT ("eyJ…"); no log line may contain one either.
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")


@pytest.fixture(autouse=True)
def _fernet_keys(settings):
    settings.APILO_FERNET_KEYS = f"t1:{TEST_FERNET_KEY}"


@pytest.fixture(autouse=True)
def _no_secrets_in_logs():
    """Every log record of every channels test (DEBUG and up, all loggers, with tracebacks) is
    checked for tokens and client secrets."""
    collector = LogCollector()
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(collector)
    root.setLevel(logging.DEBUG)
    try:
        yield collector
    finally:
        root.removeHandler(collector)
        root.setLevel(old_level)
    text = collector.text
    leaked = JWT.findall(text) + [s for s in KNOWN_SECRETS if s in text]
    assert leaked == [], "secrets in the logs"


@pytest.fixture
def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


AllegroEnv = SandboxApp


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


@pytest.fixture
def allegro_app_options() -> dict[str, Any]:
    """Options of the sandbox client app (override in a test module, e.g. a short token TTL)."""
    return {}


@pytest.fixture
def allegro(allegro_sandbox, settings, allegro_app_options) -> AllegroEnv:
    """The `local` environment = the sandbox, with a client app and the seller anna-sklep."""
    env = configure_environment(settings, allegro_sandbox, REDIRECT_URI, **allegro_app_options)
    allegro_sandbox.create_seller(SELLER_LOGIN, SELLER_PASSWORD, id=SELLER_ID, offers=0)
    return env


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def make_channel(tenant, **overrides: Any) -> SalesChannel:
    data = {
        "name": "Allegro – główne konto",
        "alias": "AL",
        "allegro_login": SELLER_LOGIN,
        "allegro_environment": "local",
        "backfill_days": 30,
    }
    data.update(overrides)
    with scope(tenant=tenant):
        return create_channel(tenant=tenant, data=data)


@pytest.fixture
def channel(tenant, allegro) -> SalesChannel:
    return make_channel(tenant)


def callback_path(redirect_location: str) -> str:
    parts = urlsplit(redirect_location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    return f"{parts.path}?{parts.query}"


def authorize(
    client: Client,
    channel: SalesChannel,
    login: str = SELLER_LOGIN,
    password: str = SELLER_PASSWORD,
):
    """The whole flow: Authorize → sandbox login + confirm → callback. Returns the callback's
    response (followed)."""
    location = sandbox_login(start(client, channel), login, password)
    return client.get(callback_path(location), follow=True)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


class LogCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if getattr(record, "allegro", None):
            self.lines.append(repr(record.allegro))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def captured_logs(_no_secrets_in_logs) -> LogCollector:
    """The log records of this test so far (see _no_secrets_in_logs)."""
    return _no_secrets_in_logs
