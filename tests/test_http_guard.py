"""The suite's guard (tests/http_guard.py) catches a request to Allegro inside a transaction,
and leaves alone the test case's own wrapping transaction and the token refresh in its own."""

from __future__ import annotations

import pytest
from django.db import transaction

from channels.clients.allegro import (
    AllegroClient,
    AllegroEnvironment,
    AllegroPermanentError,
    AllegroUnauthorized,
)
from tests.http_guard import GUARD_FILE_ENV, Guard, Offence, record_to_file

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(allegro_sandbox) -> AllegroClient:
    base = allegro_sandbox.base_url
    return AllegroClient(AllegroEnvironment("local", base, base, "guard-test", "x"))


def carriers(client: AllegroClient) -> None:
    with pytest.raises(AllegroUnauthorized):  # no such token: the request went out all the same
        client.request("GET", "/order/carriers", access_token="no-such-token")


def refresh(client: AllegroClient) -> None:
    with pytest.raises(AllegroPermanentError):  # an unknown client app: refused all the same
        client.refresh(refresh_token="no-such-token")


@pytest.mark.allow_http_in_transaction
def test_a_request_inside_a_transaction_is_caught_with_where_it_came_from(client, http_guard):
    carriers(client)  # inside the test case's own transaction only
    assert http_guard.take() == []
    with transaction.atomic(), transaction.atomic():
        carriers(client)
    [offence] = http_guard.take()
    assert offence.startswith(
        "GET /order/carriers (api) inside a transaction (default: 2 atomic block(s)), from:\n"
    )
    assert "tests/test_http_guard.py" in offence
    assert ", in carriers\n" in offence


@pytest.mark.allow_http_in_transaction
def test_only_the_token_refresh_in_a_durable_transaction_of_its_own_is_allowed(client, http_guard):
    with transaction.atomic(durable=True):
        refresh(client)
    assert http_guard.take() == []
    with transaction.atomic():
        refresh(client)
    with transaction.atomic(durable=True):
        carriers(client)
    offences = [text.split(", from:")[0] for text in http_guard.take()]
    assert offences == [
        "POST /auth/oauth/token (token:refresh_token) inside a transaction "
        "(default: 1 atomic block(s))",
        "GET /order/carriers (api) inside a transaction (default: 1 atomic block(s))",
    ]


def test_a_workers_offences_reach_the_test_that_started_it(tmp_path, monkeypatch):
    path = tmp_path / "guard.txt"
    guard = Guard()
    guard.watch(path)
    assert guard.take() == []
    monkeypatch.setenv(GUARD_FILE_ENV, str(path))
    record_to_file(Offence("GET /order/carriers (api)", "default: 1 atomic block(s)", "here\n"))
    [offence] = guard.take()
    assert offence.endswith(
        "GET /order/carriers (api) inside a transaction (default: 1 atomic block(s)), from:\nhere"
    )
    assert offence.startswith("[pid ")
    assert guard.take() == []  # read once
