"""Tokens that never get lost: single-flight refresh under the account lock, proactive refresh,
no expired token ever sent, and revocation → re-authorization, all against the sandbox."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from channels.clients.allegro import AllegroAuthRevoked, AllegroTransientError
from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.api import call, call_batch
from channels.services.tokens import ChannelNotConnected
from tests.channels.helpers import CLIENT_ID, SELLER_ID, SELLER_LOGIN, SELLER_PASSWORD, messages_of
from tests.factories import MembershipFactory, UserFactory
from tests.support.connect import authorize


def reload(channel: SalesChannel) -> SalesChannel:
    with scope(tenant=channel.tenant):
        return SalesChannel.objects.get(pk=channel.pk)


def credential(channel: SalesChannel) -> AllegroCredential:
    with scope(tenant=channel.tenant):
        return AllegroCredential.objects.get(channel=channel)


def me(channel: SalesChannel) -> dict:
    with scope(tenant=channel.tenant):
        return call(channel, "GET", "/me").data


def pollable_ids(tenant) -> list[int]:
    with scope(tenant=tenant):
        return list(SalesChannel.objects.pollable().values_list("pk", flat=True))


def wait_until_expired(channel: SalesChannel) -> None:
    """Real time passes until our own record says the access token has expired."""
    expires_at = credential(channel).access_expires_at
    while timezone.now() <= expires_at:
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("allegro_app_options", [{"access_token_ttl": 2}])
def test_eight_workers_after_expiry_make_exactly_one_refresh(admin_client, channel, allegro):
    """Proves the account lock: without `select_for_update` in lock_channel() every worker
    refreshes (8 refresh calls reach the sandbox) and this test fails."""
    authorize(admin_client, channel, SELLER_PASSWORD)
    wait_until_expired(channel)
    workers = 8
    barrier = threading.Barrier(workers)
    results: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            results.append(me(channel)["login"])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert results == [SELLER_LOGIN] * workers
    assert allegro.token_calls()["calls"] == {"authorization_code": 1, "refresh_token": 1}
    assert credential(channel).version == 2
    # Past the sandbox's 60 s grace for the old refresh token, the stored one still works.
    allegro.sandbox.advance_clock(61)
    wait_until_expired(channel)
    assert me(channel)["id"] == SELLER_ID
    assert allegro.token_calls() == {
        "calls": {"authorization_code": 1, "refresh_token": 2},
        "ok": {"authorization_code": 1, "refresh_token": 2},
    }
    fresh = reload(channel)
    assert fresh.connection_state == ConnectionState.CONNECTED
    assert credential(channel).version == 3


@pytest.mark.django_db
@pytest.mark.parametrize("allegro_app_options", [{"access_token_ttl": 8}])
def test_a_token_is_refreshed_before_it_expires(admin_client, channel, allegro, settings):
    settings.ALLEGRO_TOKEN_REFRESH_MARGIN_SECONDS = 300  # capped at half the lifetime: 4 s
    authorize(admin_client, channel, SELLER_PASSWORD)
    first = credential(channel)
    assert me(channel)["login"] == SELLER_LOGIN
    assert allegro.token_calls()["calls"] == {"authorization_code": 1}
    while first.access_expires_at - timezone.now() > timedelta(seconds=4):
        time.sleep(0.05)
    assert me(channel)["login"] == SELLER_LOGIN
    second = credential(channel)
    assert allegro.token_calls()["calls"] == {"authorization_code": 1, "refresh_token": 1}
    assert second.version == 2
    assert second.access_token != first.access_token
    assert second.refresh_token != first.refresh_token


@pytest.mark.django_db
@pytest.mark.parametrize("allegro_app_options", [{"access_token_ttl": 2}])
def test_an_expired_token_is_never_sent_even_when_the_refresh_fails(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    wait_until_expired(channel)
    allegro.sandbox.set_faults(
        client_id=CLIENT_ID, error_5xx=1.0, error_status=503, include_auth=True,
        path_prefix="/auth/",
    )  # fmt: skip
    with pytest.raises(AllegroTransientError):
        me(channel)
    stats = allegro.sandbox.stats()
    assert stats["requests"].get("me", 0) == 1  # only the /me of the authorization itself
    assert stats["by_status"].get("503") == 1  # the refresh attempt, failed by the fault
    # A transient failure is not a revocation: still connected, still polled.
    assert reload(channel).connection_state == ConnectionState.CONNECTED
    allegro.sandbox.clear_faults()
    assert me(channel)["login"] == SELLER_LOGIN


@pytest.mark.django_db
def test_a_401_is_retried_once_after_a_refresh(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    # Allegro invalidates the access token (e.g. "Access token expired" early, allegro-api#13741).
    allegro.sandbox.set_faults(
        client_id=CLIENT_ID, error_5xx=1.0, error_status=401, path_prefix="/me", seed=1
    )
    with pytest.raises(AllegroAuthRevoked):
        me(channel)
    # 401, refresh, 401 again → the grant is treated as dead.
    assert allegro.token_calls()["calls"] == {"authorization_code": 1, "refresh_token": 1}
    fresh = reload(channel)
    assert fresh.connection_state == ConnectionState.NEEDS_REAUTH
    assert fresh.needs_reauth_reason == "401 UNAUTHORIZED after a refresh"
    with scope(tenant=channel.tenant):
        assert not AllegroCredential.objects.filter(channel=channel).exists()


@pytest.mark.django_db(transaction=True)
def test_revocation_end_to_end(admin_client, admin_user, channel, allegro, tenant, other_admin,
                               staff_user, smtp_server, settings):  # fmt: skip
    settings.LANGUAGE_CODE = "en"
    second_admin = UserFactory(email="szef@alfa.example")
    MembershipFactory(tenant=tenant, user=second_admin, role="administrator")
    authorize(admin_client, channel, SELLER_PASSWORD)
    assert pollable_ids(tenant) == [channel.pk]

    # The seller changes the Allegro password: every token dies.
    allegro.sandbox.update_seller(SELLER_LOGIN, password="a-new-password")
    with pytest.raises(AllegroAuthRevoked):
        me(channel)
    # Further calls fail at once, without calling Allegro or sending more mail.
    for _ in range(3):
        with pytest.raises(ChannelNotConnected):
            me(channel)
    assert allegro.token_calls()["calls"] == {"authorization_code": 1, "refresh_token": 1}
    assert allegro.sandbox.stats()["requests"]["me"] == 2  # authorization + the 401

    fresh = reload(channel)
    assert fresh.connection_state == ConnectionState.NEEDS_REAUTH
    assert fresh.needs_reauth_reason == "invalid_grant on refresh"
    assert pollable_ids(tenant) == []

    mails = smtp_server.wait_for(2)
    assert sorted(m.to[0] for m in mails) == ["admin@alfa.example", "szef@alfa.example"]
    assert all(len(m.to) == 1 for m in mails)
    # (.strip(): Python's email package folds a long non-ASCII Subject after "Subject:", and
    # unfolding leaves a leading space.)
    assert {m.subject.strip() for m in mails} == {
        "Allegro account “Allegro – główne konto” needs to be authorized again"
    }
    link = f"{settings.SITE_URL}/app/alfa/administration/channels/{channel.pk}/"
    assert all(m.first_link() == link for m in mails)
    assert "(AL, Allegro login anna-sklep) of Sklep Alfa" in mails[0].text

    # The banner shows on every back-office page, with a link for administrators.
    home = admin_client.get(reverse("tenant_home", kwargs={"tenant_slug": "alfa"}))
    page = home.content.decode()
    assert 'data-banner="channel-reauth"' in page
    assert (
        "Allegro no longer accepts the authorization of the sales channel “Allegro – główne "
        "konto” (AL): its orders are not being fetched." in page
    )
    assert f'href="/app/alfa/administration/channels/{channel.pk}/">Authorize again</a>' in page

    # Autoryzuj ponownie restores it.
    detail = admin_client.get(f"/app/alfa/administration/channels/{channel.pk}/")
    assert b'data-action="authorize">Authorize again</button>' in detail.content
    response = authorize(admin_client, channel, "a-new-password")
    assert messages_of(response) == [
        "Authorized again as anna-sklep. Orders are being fetched again."
    ]
    assert pollable_ids(tenant) == [channel.pk]
    assert me(channel)["login"] == SELLER_LOGIN
    fresh = reload(channel)
    assert (fresh.connection_state, fresh.needs_reauth_since, fresh.needs_reauth_reason) == (
        ConnectionState.CONNECTED, None, ""
    )  # fmt: skip
    assert len(smtp_server.messages) == 2  # no more mail
    home = admin_client.get(reverse("tenant_home", kwargs={"tenant_slug": "alfa"}))
    assert b'data-banner="channel-reauth"' not in home.content


def test_calls_in_a_batch_share_one_token_read_and_one_contact_write(
    admin_client, channel, allegro
):
    authorize(admin_client, channel, SELLER_PASSWORD)
    before = allegro.sandbox.stats()["requests"]["me"]
    with (
        scope(tenant=channel.tenant),
        CaptureQueriesContext(connection) as queries,
        call_batch(),
    ):
        logins = [call(channel, "GET", "/me").data["login"] for _ in range(5)]

    assert logins == [SELLER_LOGIN] * 5
    assert allegro.sandbox.stats()["requests"]["me"] - before == 5
    statements = [q["sql"] for q in queries]
    assert len([s for s in statements if "channels_allegrocredential" in s]) == 1
    assert len([s for s in statements if s.startswith('UPDATE "channels_saleschannel"')]) == 1


def test_a_batch_drops_a_revoked_token_and_stops_calling(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    before = allegro.sandbox.stats()["requests"]["me"]
    with scope(tenant=channel.tenant), call_batch():
        call(channel, "GET", "/me")
        allegro.sandbox.revoke_tokens(SELLER_LOGIN)  # the seller changed the password
        with pytest.raises(AllegroAuthRevoked):
            call(channel, "GET", "/me")  # 401, the refresh is refused: re-authorization
        # The batch's token is not used again: nothing more reaches Allegro.
        with pytest.raises(ChannelNotConnected):
            call(channel, "GET", "/me")

    assert allegro.sandbox.stats()["requests"]["me"] - before == 2
    assert reload(channel).connection_state == ConnectionState.NEEDS_REAUTH
