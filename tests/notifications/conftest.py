"""Fixtures of the notifications tests: faulty SMTP servers and mailboxes pointing at them; a
channel stored as connected with its template set; and (re-exported from the sync tests) the
sandbox seller and a channel connected to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django_scopes import scope

from channels.models import SalesChannel
from notifications.mailboxes import create_mailbox
from notifications.models import Mailbox
from tests.notifications.helpers import (
    CHANNEL,
    SELLER,
    SELLER_ID,
    SELLER_PASSWORD,
    FaultyHandler,
    FaultySMTP,
)
from tests.support.channels import channel_of, make_channel
from tests.support.connect import REDIRECT_URI, connect, register_sandbox_app
from tests.support.notifications import set_of
from tests.sync.conftest import SyncEnv, allegro_app_options, channel, sync_env  # noqa: F401


@pytest.fixture
def outbox_settings(settings: Any) -> Any:
    """Retries due at once, few tries, a short SMTP timeout: the drain runs a whole history."""
    settings.MAIL_RETRY_BASE_SECONDS = 0
    settings.MAIL_MAX_ATTEMPTS = 4
    settings.MAIL_SMTP_TIMEOUT = 1.0
    return settings


@pytest.fixture
def smtp_faulty() -> Iterator[Callable[..., FaultySMTP]]:
    """`smtp_faulty(mode, faults=N, auth=False)` → a started server; stopped after the test."""
    started: list[FaultySMTP] = []

    def start(mode: str = "healthy", faults: int = 0, *, auth: bool = False, **kw: Any):
        server = FaultySMTP(FaultyHandler(mode, faults, **kw), auth=auth).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def mailbox_at(tenant) -> Callable[..., Mailbox]:
    """`mailbox_at(server, **fields)` → a mailbox of `tenant` sending to that server."""

    def make(server: Any, **fields: Any) -> Mailbox:
        values = {
            "name": "Sklep",
            "host": server.host,
            "port": server.port,
            "security": "none",
            "username": "",
            "from_name": "Sklep Alfa",
            "from_address": "sklep@alfa.example",
        }
        values.update(fields)
        password = values.pop("password", "")
        with scope(tenant=tenant):
            return create_mailbox(tenant, password=password, **values)

    return make


# --- Template sets, the category guard, the customer zone -----------------------------------


@pytest.fixture
def template_set(tenant):
    return set_of(tenant)


@pytest.fixture
def shop(tenant, template_set) -> SalesChannel:
    """The tenant's Allegro channel (stored connected, no Allegro behind it) using the test set,
    with the customer zone on."""
    stored = channel_of(tenant)
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=stored.pk).update(
            template_set=template_set, customer_zone=True
        )
        stored.refresh_from_db()
    return stored


@pytest.fixture
def allegro_env(allegro_sandbox, settings):
    """The `local` environment pointed at the sandbox, with our app and the seller."""
    app = register_sandbox_app(
        settings, allegro_sandbox, client_id="apilo-mail", redirect_uri=REDIRECT_URI
    )
    allegro_sandbox.create_seller(SELLER, SELLER_PASSWORD, id=SELLER_ID, offers=0)
    return app


@pytest.fixture
def connected_channel(tenant, admin_user, allegro_env):
    """A channel of tenant "alfa" authorized through the real OAuth flow."""
    return connect(make_channel(tenant, CHANNEL), admin_user, SELLER_PASSWORD)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
