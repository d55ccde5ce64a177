"""Authorize → Allegro (the sandbox, over HTTP) → callback: the happy path and every way it must
fail without storing anything."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope

from channels.models import AllegroCredential, ConnectionState, SalesChannel
from channels.services.oauth import SESSION_KEY
from tests.channels.helpers import (
    CHANNEL,
    CLIENT_ID,
    SELLER_ID,
    SELLER_LOGIN,
    SELLER_PASSWORD,
    messages_of,
)
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory
from tests.support.channels import make_channel
from tests.support.connect import REDIRECT_URI, authorize, callback_path, sandbox_login, start

pytestmark = pytest.mark.django_db


def detail_url(channel: SalesChannel) -> str:
    return reverse(
        "administration:channels:detail",
        kwargs={"tenant_slug": channel.tenant.slug, "channel_id": channel.pk},
    )


def reload(channel: SalesChannel) -> SalesChannel:
    with scope(tenant=channel.tenant):
        return SalesChannel.objects.get(pk=channel.pk)


def credentials(channel: SalesChannel) -> list[AllegroCredential]:
    with scope(tenant=channel.tenant):
        return list(AllegroCredential.objects.filter(channel=channel))


def assert_untouched(channel: SalesChannel) -> None:
    fresh = reload(channel)
    assert fresh.connection_state == ConnectionState.NOT_CONNECTED
    assert (fresh.connected_login, fresh.connected_seller_id, fresh.connected_at) == ("", "", None)
    assert credentials(channel) == []


def test_authorize_redirects_to_the_environment_with_state_and_pkce(admin_client, channel, allegro):
    url = start(admin_client, channel)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{allegro.sandbox.base_url}/auth/oauth/authorize"
    )
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 43
    assert query["prompt"] == "confirm"
    # The session holds only a hash of the state, bound to this channel and user.
    [(key, entry)] = admin_client.session[SESSION_KEY].items()
    assert key != query["state"]
    assert entry["channel_id"] == channel.pk
    assert entry["tenant_id"] == channel.tenant_id
    assert entry["environment"] == "local"


def test_connecting_stores_the_login_seller_id_and_encrypted_tokens(admin_client, channel, allegro):
    before = timezone.now()
    response = authorize(admin_client, channel, SELLER_PASSWORD)
    assert response.redirect_chain[-1][0] == detail_url(channel)
    assert messages_of(response) == [f"Connected to Allegro as {SELLER_LOGIN}."]
    fresh = reload(channel)
    assert fresh.connection_state == ConnectionState.CONNECTED
    assert fresh.connected_login == SELLER_LOGIN
    assert fresh.connected_seller_id == SELLER_ID
    assert fresh.connected_at >= before
    [cred] = credentials(channel)
    assert cred.version == 1
    assert timedelta(seconds=43190) < cred.access_expires_at - before < timedelta(seconds=43210)
    assert "allegro:api:orders:read" in cred.scopes.split()
    # exactly one code exchange, no refresh
    assert allegro.token_calls() == {
        "calls": {"authorization_code": 1},
        "ok": {"authorization_code": 1},
    }
    # the page shows who it is connected as, and the token's expiry
    page = response.content.decode()
    assert f'data-field="connected-login">{SELLER_LOGIN}<' in page
    assert f'data-field="connected-seller-id">{SELLER_ID}<' in page
    assert "Access token valid until" in page
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM channels_allegrocredential WHERE id = %s",
            [cred.pk],
        )
        raw_access, raw_refresh = cursor.fetchone()
    assert raw_access.startswith("enc:fernet:t1:")
    assert raw_refresh.startswith("enc:fernet:t1:")
    assert cred.access_token not in raw_access
    assert cred.refresh_token not in raw_refresh


def test_a_forged_state_is_refused_and_nothing_is_stored(admin_client, channel, allegro):
    location = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    code = parse_qs(urlsplit(location).query)["code"][0]
    response = admin_client.get(
        reverse("allegro_callback"), {"code": code, "state": "forged-state"}, follow=True
    )
    assert messages_of(response) == [
        "This authorization link is not valid: it has expired, was already used or was not "
        "started by you. Open the sales channel and click “Authorize” again."
    ]
    assert_untouched(channel)
    assert allegro.token_calls() == {"calls": {}, "ok": {}}


def test_a_callback_without_state_is_refused(admin_client, channel, allegro):
    start(admin_client, channel)
    response = admin_client.get(reverse("allegro_callback"), {"code": "abc"}, follow=True)
    assert response.redirect_chain[-1][0] == "/app/alfa/"
    assert len(messages_of(response)) == 1
    assert_untouched(channel)
    assert allegro.token_calls() == {"calls": {}, "ok": {}}


def test_a_replayed_callback_is_refused(admin_client, channel, allegro):
    location = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    first = admin_client.get(callback_path(location), follow=True)
    assert messages_of(first) == [f"Connected to Allegro as {SELLER_LOGIN}."]
    [cred_before] = credentials(channel)
    replay = admin_client.get(callback_path(location), follow=True)
    assert messages_of(replay)[0].startswith("This authorization link is not valid")
    [cred_after] = credentials(channel)
    assert (cred_after.version, cred_after.access_token) == (1, cred_before.access_token)
    assert allegro.token_calls()["calls"] == {"authorization_code": 1}


def test_a_reused_code_is_refused_by_allegro_and_changes_nothing(admin_client, channel, allegro):
    location = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    used_code = parse_qs(urlsplit(location).query)["code"][0]
    first = admin_client.get(callback_path(location), follow=True)
    assert messages_of(first) == [f"Connected to Allegro as {SELLER_LOGIN}."]
    [cred_before] = credentials(channel)
    # A new, genuine authorization whose callback carries the already used code.
    fresh_location = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    fresh_state = parse_qs(urlsplit(fresh_location).query)["state"][0]
    response = admin_client.get(
        reverse("allegro_callback"), {"code": used_code, "state": fresh_state}, follow=True
    )
    assert messages_of(response) == [
        "Allegro did not accept the authorization: the code was already used or has expired. "
        "Click “Authorize” again."
    ]
    [cred_after] = credentials(channel)
    assert (cred_after.version, cred_after.access_token) == (1, cred_before.access_token)
    assert allegro.token_calls() == {
        "calls": {"authorization_code": 2},
        "ok": {"authorization_code": 1},
    }


def test_the_code_must_come_with_the_pkce_verifier_of_this_session(
    admin_client, channel, allegro, tenant
):
    """A code obtained for another session's state is useless with ours (PKCE mismatch)."""
    other_location = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    stolen_code = parse_qs(urlsplit(other_location).query)["code"][0]
    ours = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    our_state = parse_qs(urlsplit(ours).query)["state"][0]
    response = admin_client.get(
        reverse("allegro_callback"), {"code": stolen_code, "state": our_state}, follow=True
    )
    assert messages_of(response)[0].startswith("Allegro did not accept the authorization")
    assert_untouched(channel)


def test_a_wrong_login_is_an_error_the_user_can_fix(admin_client, channel, allegro):
    allegro.sandbox.create_seller("bartek", "bartek-password", id="50000002", offers=0)
    response = authorize(admin_client, channel, "bartek-password", login="bartek")
    assert response.redirect_chain[-1][0] == detail_url(channel)
    assert messages_of(response) == [
        "You signed in to Allegro as “bartek”, but this channel is for the Allegro login "
        f"“{SELLER_LOGIN}”. Nothing was saved. Sign in to Allegro as “{SELLER_LOGIN}” (use "
        "“change account” on Allegro's page), or correct the login in the channel settings, "
        "then click “Authorize” again."
    ]
    assert_untouched(channel)


def test_the_login_comparison_ignores_case(admin_client, tenant, allegro):
    channel = make_channel(tenant, CHANNEL, allegro_login="Anna-Sklep")
    response = authorize(admin_client, channel, SELLER_PASSWORD, login=SELLER_LOGIN)
    assert messages_of(response) == [f"Connected to Allegro as {SELLER_LOGIN}."]
    assert reload(channel).connected_login == SELLER_LOGIN


def test_a_denied_consent_is_a_clear_message(admin_client, channel, allegro):
    location = sandbox_login(start(admin_client, channel), "", "", action="cancel")
    assert parse_qs(urlsplit(location).query)["error"] == ["access_denied"]
    response = admin_client.get(callback_path(location), follow=True)
    assert messages_of(response) == [
        "The authorization was cancelled on Allegro. Nothing was changed; click “Authorize” "
        "when you are ready."
    ]
    assert_untouched(channel)
    assert allegro.token_calls() == {"calls": {}, "ok": {}}


def test_an_environment_changed_during_authorization_is_refused(
    admin_client, channel, allegro, settings
):
    location = sandbox_login(start(admin_client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    settings.ALLEGRO_ENVIRONMENTS = {
        **settings.ALLEGRO_ENVIRONMENTS,
        "sandbox": {**settings.ALLEGRO_ENVIRONMENTS["local"]},
    }
    with scope(tenant=channel.tenant):
        SalesChannel.objects.filter(pk=channel.pk).update(allegro_environment="sandbox")
    response = admin_client.get(callback_path(location), follow=True)
    assert messages_of(response) == [
        "The channel's Allegro environment was changed during the authorization. Click "
        "“Authorize” again."
    ]
    fresh = reload(channel)
    assert fresh.connection_state == ConnectionState.NOT_CONNECTED
    assert credentials(channel) == []
    assert allegro.token_calls() == {"calls": {}, "ok": {}}


def test_a_callback_in_another_users_session_is_refused(
    client, channel, allegro, tenant, admin_user
):
    client.force_login(admin_user)
    location = sandbox_login(start(client, channel), SELLER_LOGIN, SELLER_PASSWORD)
    other = UserFactory(email="admin2@alfa.example")
    MembershipFactory(tenant=tenant, user=other, role="administrator")
    client.logout()
    client.login(username=other.email, password=DEFAULT_PASSWORD)
    response = client.get(callback_path(location), follow=True)
    assert messages_of(response)[0].startswith("This authorization link is not valid")
    assert_untouched(channel)


def test_the_callback_needs_a_logged_in_user(client, channel, allegro):
    response = client.get(reverse("allegro_callback"), {"code": "x", "state": "y"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert allegro.token_calls() == {"calls": {}, "ok": {}}


def test_the_same_allegro_account_cannot_be_connected_twice_in_a_tenant(
    admin_client, tenant, allegro
):
    first = make_channel(tenant, CHANNEL, alias="AA", name="Pierwszy")
    second = make_channel(tenant, CHANNEL, alias="BB", name="Drugi")
    authorize(admin_client, first, SELLER_PASSWORD)
    response = authorize(admin_client, second, SELLER_PASSWORD)
    assert messages_of(response) == [
        f"The Allegro account “{SELLER_LOGIN}” is already connected as the sales channel "
        "“Pierwszy”. Nothing was saved."
    ]
    assert_untouched(second)


def test_reauthorizing_a_connected_channel_keeps_it_connected(admin_client, channel, allegro):
    authorize(admin_client, channel, SELLER_PASSWORD)
    response = authorize(admin_client, channel, SELLER_PASSWORD)
    assert messages_of(response) == [f"Connected to Allegro as {SELLER_LOGIN}."]
    [cred] = credentials(channel)
    assert cred.version == 2
    assert reload(channel).connection_state == ConnectionState.CONNECTED
