"""Tokens and the client secret never appear in plain text in the database or the logs."""

from __future__ import annotations

import time

import pytest
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from channels.clients.allegro import AllegroAuthRevoked
from channels.models import AllegroCredential
from channels.services.api import call
from tests.channels.helpers import SELLER_LOGIN, SELLER_PASSWORD
from tests.support.connect import authorize


def whole_database_text() -> str:
    """Every row of every table, as text (what a leaked dump would show)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        tables = [row[0] for row in cursor.fetchall()]
        chunks = []
        for table in tables:
            cursor.execute(f'SELECT row_to_json(t)::text FROM "{table}" t')  # noqa: S608
            chunks.extend(row[0] for row in cursor.fetchall())
    return "\n".join(chunks)


@pytest.mark.django_db
@pytest.mark.parametrize("allegro_app_options", [{"access_token_ttl": 2}])
def test_no_token_or_client_secret_in_the_database_or_the_logs(
    admin_client, channel, allegro, captured_logs
):
    seen: set[str] = set()

    def remember() -> None:
        with scope(tenant=channel.tenant):
            for cred in AllegroCredential.objects.filter(channel=channel):
                seen.update({cred.access_token, cred.refresh_token})

    authorize(admin_client, channel, SELLER_PASSWORD)
    remember()
    with scope(tenant=channel.tenant):
        expires_at = AllegroCredential.objects.get(channel=channel).access_expires_at
    while timezone.now() <= expires_at:
        time.sleep(0.05)
    with scope(tenant=channel.tenant):
        assert call(channel, "GET", "/me").data["login"] == SELLER_LOGIN  # after a refresh
    remember()
    assert len(seen) == 4
    dump = whole_database_text()
    assert "enc:fernet:t1:" in dump
    for secret in [*seen, allegro.client_secret]:
        assert secret not in dump
        assert secret not in captured_logs.text
    # The calls were logged, structured, without secrets.
    assert "allegro_call env=local client_id=apilo-test kind=token:refresh_token" in (
        captured_logs.text
    )
    assert "kind=api method=GET path=/me status=200 outcome=ok" in captured_logs.text

    # Revocation: error paths log nothing secret either (Allegro echoes tokens in errors).
    allegro.sandbox.revoke_tokens(SELLER_LOGIN)
    with scope(tenant=channel.tenant), pytest.raises(AllegroAuthRevoked):
        call(channel, "GET", "/me")
    for secret in [*seen, allegro.client_secret]:
        assert secret not in captured_logs.text
    assert secret not in whole_database_text()
