"""Fixtures of the sales-channel tests: Fernet keys, an Allegro environment pointing at the
sandbox (over HTTP), sandbox sellers, a channel, and every log record checked for secrets."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from channels.models import SalesChannel
from tests.channels.helpers import (
    CHANNEL,
    JWT,
    KNOWN_SECRETS,
    SELLER_ID,
    SELLER_LOGIN,
    SELLER_PASSWORD,
    TEST_FERNET_KEY,
    configure_environment,
)
from tests.support.channels import make_channel
from tests.support.connect import REDIRECT_URI, SandboxApp


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


@pytest.fixture
def channel(tenant, allegro) -> SalesChannel:
    return make_channel(tenant, CHANNEL)


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
