"""Invitations: mailed link, accept by signing up / logging in / as the signed-in invitee, and
every way a link can be unusable (expired, tampered, used, withdrawn, replaced, already member)."""

from __future__ import annotations

import threading
import time
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import connection, connections, transaction
from django.test import Client
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from core import services
from core.models import Invitation, Membership, Role, Tenant
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")

User = get_user_model()
PASSWORD = "Invited-Secret-314"


def english_client() -> Client:
    return Client(headers={"accept-language": "en"})


def invite(tenant, admin_user, email="nowy@example.com", role=Role.SHOP_MANAGER) -> Invitation:
    return services.invite_member(tenant=tenant, email=email, role=role, invited_by=admin_user)


def accept_url(invitation: Invitation) -> str:
    return reverse("accept_invitation", args=[services.invitation_token(invitation)])


def signup(client, url, password=PASSWORD):
    return client.post(url, {"action": "signup", "password1": password, "password2": password})


def assert_refused(response, message):
    assert response.status_code == 400
    page = response.content.decode()
    assert "This invitation cannot be used" in page
    assert message in page


# --- The whole journey over SMTP -------------------------------------------------------------


def test_invitation_mail_link_signup_gives_membership_with_the_role(
    client, smtp_server, transactional_db, tenant, admin_user, settings
):
    settings.SITE_URL = "https://apilo.example"
    client.force_login(admin_user)
    users_url = reverse("administration:users:list", args=[tenant.slug])

    response = client.post(
        reverse("administration:users:invite", args=[tenant.slug]),
        {"email": "Nowy@Example.com", "role": Role.SHOP_MANAGER},
        follow=True,
    )
    assert response.redirect_chain == [(users_url, 302)]
    page = response.content.decode()
    assert "Invitation sent to nowy@example.com." in page
    assert "Pending invitations" in page and "nowy@example.com" in page

    [mail] = smtp_server.wait_for(1)
    assert mail.to == ["nowy@example.com"]
    assert mail.subject == "Invitation to Sklep Alfa in apilo"
    assert (
        "admin@alfa.example invites you to the back office of Sklep Alfa in apilo, "
        "with the role: Shop manager." in mail.text
    )
    assert "expires in 7 days" in mail.text
    link = mail.first_link()
    assert link.startswith("https://apilo.example/accounts/invitation/")

    invitee = english_client()
    page = invitee.get(urlsplit(link).path).content.decode()
    assert "Join Sklep Alfa" in page
    assert 'name="password1"' in page

    response = signup(invitee, urlsplit(link).path)
    assert response.status_code == 302
    assert response["Location"] == f"/app/{tenant.slug}/"
    user = User.objects.get(email="nowy@example.com")
    assert user.username == "nowy@example.com"
    membership = Membership.objects.get(tenant=tenant, user=user)
    assert membership.role == Role.SHOP_MANAGER
    with scope(tenant=tenant):
        invitation = Invitation.objects.get()
    assert invitation.accepted_by == user and invitation.accepted_at is not None
    home = invitee.get(response["Location"])
    assert home.status_code == 200
    assert "You have joined Sklep Alfa." in home.content.decode()


# --- Other ways to accept --------------------------------------------------------------------


def test_an_existing_account_logs_in_on_the_invitation_page(
    client, tenant, admin_user, other_admin
):
    invitation = invite(tenant, admin_user, email=other_admin.email, role=Role.ACCOUNTANT)
    url = accept_url(invitation)

    page = client.get(url).content.decode()
    assert "An account with this address already exists." in page

    wrong = client.post(url, {"action": "login", "password": "wrong"})
    assert "Wrong e-mail or password." in wrong.content.decode()
    assert not Membership.objects.filter(tenant=tenant, user=other_admin).exists()

    # The address is the invitation's, whatever the form says.
    response = client.post(
        url, {"action": "login", "username": admin_user.email, "password": DEFAULT_PASSWORD}
    )
    assert response["Location"] == f"/app/{tenant.slug}/"
    assert Membership.objects.get(tenant=tenant, user=other_admin).role == Role.ACCOUNTANT
    assert int(client.session["_auth_user_id"]) == other_admin.pk


def test_the_signed_in_invitee_joins_with_one_click(client, tenant, admin_user, other_admin):
    invitation = invite(tenant, admin_user, email="ADMIN@beta.example", role=Role.USER)
    client.force_login(other_admin)
    url = accept_url(invitation)
    assert "Join the company" in client.get(url).content.decode()
    assert not Membership.objects.filter(tenant=tenant, user=other_admin).exists()  # GET: nothing

    response = client.post(url, {"action": "accept"})
    assert response["Location"] == f"/app/{tenant.slug}/"
    assert Membership.objects.get(tenant=tenant, user=other_admin).role == Role.USER


def test_signed_in_as_someone_else_is_told_and_nothing_written(
    client, tenant, admin_user, other_admin, row_counts
):
    invitation = invite(tenant, admin_user, email="nowy@example.com")
    client.force_login(other_admin)
    url = accept_url(invitation)
    page = client.get(url).content.decode()
    assert "You are logged in as admin@beta.example." in page
    before = row_counts()
    response = client.post(url, {"action": "accept"})
    assert_refused(
        response,
        "This invitation is for nowy@example.com, but you are logged in as admin@beta.example.",
    )
    assert row_counts() == before


# --- Unusable links: a message, nothing written ----------------------------------------------


def test_expired_invitation(client, tenant, admin_user, row_counts, monkeypatch, settings):
    invitation = invite(tenant, admin_user)
    signed_at = time.time() - settings.INVITATION_MAX_AGE - 60
    with monkeypatch.context() as patch:
        patch.setattr(signing.time, "time", lambda: signed_at)
        url = accept_url(invitation)  # a link mailed 7 days and a minute ago
    before = row_counts()

    assert_refused(client.get(url), "This invitation has expired.")
    assert_refused(signup(client, url), "This invitation has expired.")

    assert row_counts() == before
    assert not User.objects.filter(email="nowy@example.com").exists()


@pytest.mark.parametrize("how", ["signature", "payload", "salt", "garbage"])
def test_tampered_token(client, tenant, admin_user, row_counts, how):
    invitation = invite(tenant, admin_user)
    token = services.invitation_token(invitation)
    if how == "signature":
        token = token[:-1] + ("A" if token[-1] != "A" else "B")
    elif how == "payload":
        token = ("x" if token[0] != "x" else "y") + token[1:]
    elif how == "salt":
        token = signing.TimestampSigner(salt="other").sign_object(
            {"id": invitation.pk, "nonce": invitation.nonce}
        )
    else:
        token = "not-a-token"
    url = reverse("accept_invitation", args=[token])
    before = row_counts()

    assert_refused(client.get(url), "This invitation link is not valid.")
    assert_refused(signup(client, url), "This invitation link is not valid.")
    assert row_counts() == before


@pytest.mark.parametrize("invitation_id", ["x", None])
def test_a_signed_token_without_a_numeric_id_is_refused(
    client, tenant, admin_user, row_counts, invitation_id
):
    # Signed with our key and salt, so only a leaked key could make one: still a refusal, not
    # an error page.
    invitation = invite(tenant, admin_user)
    token = signing.TimestampSigner(salt=services.INVITATION_SALT).sign_object(
        {"id": invitation_id, "nonce": invitation.nonce}
    )
    url = reverse("accept_invitation", args=[token])
    before = row_counts()

    assert_refused(client.get(url), "This invitation link is not valid.")
    assert_refused(signup(client, url), "This invitation link is not valid.")
    assert row_counts() == before


def test_an_invitation_works_once(client, tenant, admin_user, row_counts):
    invitation = invite(tenant, admin_user)
    url = accept_url(invitation)
    assert signup(client, url).status_code == 302
    client.post(reverse("logout"))
    before = row_counts()

    assert_refused(client.get(url), "This invitation has already been used.")
    assert_refused(
        signup(client, url, "Another-Secret-99"), "This invitation has already been used."
    )
    stranger = english_client()
    stranger.force_login(User.objects.get(email="nowy@example.com"))
    assert_refused(stranger.post(url, {"action": "accept"}), "already been used")
    assert row_counts() == before


def test_an_invitee_who_is_already_a_member_is_told(client, tenant, admin_user, row_counts):
    invitation = invite(tenant, admin_user, email="nowy@example.com")
    member = UserFactory(email="nowy@example.com")
    MembershipFactory(tenant=tenant, user=member, role=Role.USER)
    client.force_login(member)
    url = accept_url(invitation)
    before = row_counts()

    assert_refused(client.get(url), "You are already a member of Sklep Alfa.")
    assert_refused(
        client.post(url, {"action": "accept"}), "You are already a member of Sklep Alfa."
    )

    assert row_counts() == before
    assert Membership.objects.get(tenant=tenant, user=member).role == Role.USER
    with scopes_disabled():
        assert Invitation.objects.get().accepted_at is None


def test_reinviting_replaces_the_pending_invitation(client, tenant, admin_user):
    first = invite(tenant, admin_user, role=Role.USER)
    first_url = accept_url(first)
    second = invite(tenant, admin_user, email="NOWY@example.com", role=Role.SALES_MANAGER)
    with scope(tenant=tenant):
        assert list(Invitation.objects.values_list("pk", flat=True)) == [second.pk]

    assert_refused(client.get(first_url), "This invitation is no longer valid")
    assert signup(client, accept_url(second)).status_code == 302
    assert Membership.objects.get(user__email="nowy@example.com").role == Role.SALES_MANAGER


def test_a_withdrawn_invitation_stops_working(client, tenant, admin_user, row_counts):
    invitation = invite(tenant, admin_user)
    url = accept_url(invitation)
    client.force_login(admin_user)
    response = client.post(
        reverse("administration:users:revoke_invitation", args=[tenant.slug, invitation.pk]),
        follow=True,
    )
    assert (
        "The invitation of nowy@example.com was withdrawn; its link no longer works."
        in response.content.decode()
    )
    client.post(reverse("logout"))
    before = row_counts()
    assert before[3] == 0
    assert_refused(client.get(url), "This invitation is no longer valid")
    assert_refused(signup(client, url), "This invitation is no longer valid")
    assert row_counts() == before


def test_inviting_a_member_is_a_form_error(client, tenant, admin_user, staff_user, row_counts):
    client.force_login(admin_user)
    before = row_counts()
    response = client.post(
        reverse("administration:users:invite", args=[tenant.slug]),
        {"email": "STAFF@alfa.example", "role": Role.USER},
    )
    assert response.status_code == 200
    assert "staff@alfa.example is already a member of this company." in response.content.decode()
    assert row_counts() == before


def test_another_tenants_invitation_cannot_be_withdrawn(
    client, tenant, admin_user, other_tenant, other_admin, row_counts
):
    theirs = invite(other_tenant, other_admin)
    client.force_login(admin_user)
    before = row_counts()
    response = client.post(
        reverse("administration:users:revoke_invitation", args=[tenant.slug, theirs.pk])
    )
    assert response.status_code == 404
    assert row_counts() == before


# --- Concurrency -----------------------------------------------------------------------------


def _backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_reinvitations_leave_one_pending_invitation(tenant, admin_user):
    """Two administrators invite the same address at the same moment: one pending invitation.

    The test holds the tenant row lock until both threads wait on it (or have finished, as
    they would without the lock), so the race is certain. Without the service's lock both
    find no pending invitation to replace and both insert one.
    """
    errors: list[BaseException] = []

    def reinvite(role: str) -> None:
        try:
            invite(tenant, admin_user, email="nowy@example.com", role=role)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reinvite, args=(role,)) for role in ("user", "accountant")]
    with transaction.atomic():
        list(Tenant.objects.select_for_update().filter(pk=tenant.pk))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while (
            _backends_waiting_for_a_lock() < 2
            and any(thread.is_alive() for thread in threads)
            and time.monotonic() < deadline
        ):
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=20)

    assert errors == []
    with scope(tenant=tenant):
        assert Invitation.objects.filter(email="nowy@example.com").count() == 1
