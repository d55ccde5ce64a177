"""Administracja → Użytkownicy: members, roles, removal, and the last-administrator rule."""

from __future__ import annotations

import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, connections, transaction
from django.urls import reverse

from core import services
from core.models import Membership, Role
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")

LAST_ADMIN = "A company needs at least one administrator."


def users_url(tenant, name="list", *args):
    return reverse(f"administration:users:{name}", args=[tenant.slug, *args])


def membership_of(user, tenant) -> Membership:
    return Membership.objects.get(user=user, tenant=tenant)


@pytest.fixture
def second_admin(tenant):
    user = UserFactory(email="second@alfa.example")
    MembershipFactory(tenant=tenant, user=user, role=Role.ADMINISTRATOR)
    return user


def test_the_list_shows_members_roles_dates_and_pending_invitations(
    client, tenant, admin_user, staff_user, other_admin
):
    services.invite_member(
        tenant=tenant, email="nowy@example.com", role=Role.ACCOUNTANT, invited_by=admin_user
    )
    client.force_login(admin_user)
    response = client.get(users_url(tenant))
    assert response.status_code == 200
    page = response.content.decode()
    assert [m.user.email for m in response.context["members"]] == [
        "admin@alfa.example",
        "staff@alfa.example",
    ]
    assert "admin@beta.example" not in page  # another tenant's member
    joined = membership_of(staff_user, tenant).created_at
    assert f"{joined.day} {joined:%b %Y}" in page
    assert '<option value="user" selected>User</option>' in page
    [(invitation, expired)] = response.context["invitations"]
    assert (invitation.email, invitation.role, expired) == ("nowy@example.com", "accountant", False)
    assert "Accountant" in page


def test_a_non_administrator_gets_403(client, tenant, staff_user):
    client.force_login(staff_user)
    assert client.get(users_url(tenant)).status_code == 403
    assert client.get(users_url(tenant, "invite")).status_code == 403


def test_change_a_members_role(client, tenant, admin_user, staff_user):
    client.force_login(admin_user)
    staff = membership_of(staff_user, tenant)
    response = client.post(
        users_url(tenant, "change_role", staff.pk), {"role": Role.SALES_MANAGER}, follow=True
    )
    assert "staff@alfa.example is now: Sales manager." in response.content.decode()
    staff.refresh_from_db()
    assert staff.role == Role.SALES_MANAGER


def test_the_last_administrator_cannot_be_demoted(
    client, tenant, admin_user, staff_user, row_counts
):
    client.force_login(admin_user)
    mine = membership_of(admin_user, tenant)
    before = row_counts()
    response = client.post(
        users_url(tenant, "change_role", mine.pk), {"role": Role.USER}, follow=True
    )
    assert LAST_ADMIN in response.content.decode()
    mine.refresh_from_db()
    assert mine.role == Role.ADMINISTRATOR
    assert row_counts() == before


def test_the_last_administrator_cannot_be_removed(
    client, tenant, admin_user, staff_user, row_counts
):
    client.force_login(admin_user)
    mine = membership_of(admin_user, tenant)
    assert "Last administrator" in client.get(users_url(tenant)).content.decode()
    before = row_counts()
    response = client.post(users_url(tenant, "remove", mine.pk), follow=True)
    assert LAST_ADMIN in response.content.decode()
    assert row_counts() == before


def test_remove_a_member_keeps_their_account(client, tenant, admin_user, staff_user):
    client.force_login(admin_user)
    staff = membership_of(staff_user, tenant)
    confirm = client.get(users_url(tenant, "remove", staff.pk))
    assert "staff@alfa.example will lose access to Sklep Alfa." in confirm.content.decode()
    assert Membership.objects.filter(pk=staff.pk).exists()  # GET changes nothing

    response = client.post(users_url(tenant, "remove", staff.pk), follow=True)
    assert "staff@alfa.example no longer has access to this company." in response.content.decode()
    assert not Membership.objects.filter(pk=staff.pk).exists()
    assert get_user_model().objects.filter(pk=staff_user.pk).exists()


def test_an_administrator_may_leave_when_another_remains(client, tenant, admin_user, second_admin):
    client.force_login(admin_user)
    mine = membership_of(admin_user, tenant)
    response = client.post(users_url(tenant, "remove", mine.pk))
    assert response["Location"] == reverse("home")
    assert not Membership.objects.filter(pk=mine.pk).exists()
    assert membership_of(second_admin, tenant).role == Role.ADMINISTRATOR


def test_an_administrator_may_step_down_when_another_remains(
    client, tenant, admin_user, second_admin
):
    client.force_login(admin_user)
    mine = membership_of(admin_user, tenant)
    response = client.post(users_url(tenant, "change_role", mine.pk), {"role": Role.USER})
    assert response["Location"] == reverse("tenant_home", args=[tenant.slug])
    mine.refresh_from_db()
    assert mine.role == Role.USER


def test_another_tenants_membership_ids_answer_404(
    client, tenant, admin_user, other_tenant, other_admin, row_counts
):
    theirs = membership_of(other_admin, other_tenant)
    client.force_login(admin_user)
    before = row_counts()
    assert client.get(users_url(tenant, "remove", theirs.pk)).status_code == 404
    assert client.post(users_url(tenant, "remove", theirs.pk)).status_code == 404
    assert (
        client.post(users_url(tenant, "change_role", theirs.pk), {"role": "user"}).status_code
        == 404
    )
    assert row_counts() == before
    assert membership_of(other_admin, other_tenant).role == Role.ADMINISTRATOR


def test_an_unknown_role_is_refused(client, tenant, admin_user, staff_user):
    client.force_login(admin_user)
    staff = membership_of(staff_user, tenant)
    response = client.post(users_url(tenant, "change_role", staff.pk), {"role": "god"}, follow=True)
    assert "Choose a role." in response.content.decode()
    staff.refresh_from_db()
    assert staff.role == Role.USER


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
def test_two_concurrent_demotions_leave_one_administrator(tenant, admin_user, second_admin):
    """Two administrators demote each other at the same moment: exactly one succeeds.

    To make the race certain rather than likely, this test holds the administrators' row locks
    until both threads are blocked on the database, then lets go. With the service's
    select_for_update the second transaction re-reads and sees one administrator left; without
    it both have already counted two administrators and both demotions go through.
    """
    admins = [membership_of(admin_user, tenant).pk, membership_of(second_admin, tenant).pk]
    outcomes: dict[int, str] = {}

    def demote(membership_id: int) -> None:
        try:
            membership = Membership.objects.get(pk=membership_id)
            services.change_role(membership=membership, role=Role.USER)
            outcomes[membership_id] = "demoted"
        except services.LastAdministratorError:
            outcomes[membership_id] = "refused"
        finally:
            connections.close_all()

    threads = [threading.Thread(target=demote, args=(pk,)) for pk in admins]
    with transaction.atomic():
        list(Membership.objects.select_for_update().filter(tenant=tenant, role=Role.ADMINISTRATOR))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 10
        while _backends_waiting_for_a_lock() < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
    for thread in threads:
        thread.join(timeout=20)

    assert sorted(outcomes.values()) == ["demoted", "refused"]
    assert Membership.objects.filter(tenant=tenant, role=Role.ADMINISTRATOR).count() == 1
