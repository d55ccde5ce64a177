"""One canonical e-mail address per account: the login, its throttle, sign-up, invitations and
password reset all treat spellings of an address alike (case, full-width letters, ſ, combining
accents), and none of them accept a spelling PostgreSQL folds together with another one (ı)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from core import services
from core.emails import canonical_email, has_lookalike_characters
from core.models import Role
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")

User = get_user_model()
LOCKOUT_MESSAGE = "Too many failed login attempts."
WRONG_LOGIN = "Wrong e-mail or password."
LOOKALIKE_MESSAGE = "This address contains characters that stand in for other letters"

DOTLESS = "adm\u0131n@x.test"  # ı, which PostgreSQL's UPPER() folds to I
FULL_WIDTH = "\uff41\uff44\uff4d\uff49\uff4e@x.test"  # ａｄｍｉｎ
LONG_S = "\u017feller@x.test"  # ſeller
# "jan@żółw.test" with ż and ó typed as a letter plus a combining accent
DECOMPOSED = "jan@z\u0307o\u0301\u0142w.test"


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 900
    return settings


def attempt(client, email, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_canonical_form():
    assert canonical_email("  Admin@X.Test ") == "admin@x.test"
    assert canonical_email(FULL_WIDTH) == "admin@x.test"
    assert canonical_email(LONG_S) == "seller@x.test"
    assert canonical_email(DECOMPOSED) == "jan@\u017c\u00f3\u0142w.test"
    assert canonical_email(DOTLESS) == DOTLESS  # a letter of its own, not an i
    assert canonical_email("jan@stra\u00dfe.test") == "jan@strasse.test"
    assert [
        has_lookalike_characters(e)
        for e in ("Admin@X.test", DECOMPOSED, DOTLESS, FULL_WIDTH, LONG_S, "jan@stra\u00dfe.test")
    ] == [False, False, False, True, True, True]


@pytest.mark.django_db
def test_a_dotless_i_does_not_get_past_the_lockout(client, limits):
    UserFactory(email="admin@x.test")
    for _ in range(5):
        attempt(client, "admin@x.test", "wrong")

    response = attempt(client, DOTLESS, DEFAULT_PASSWORD)

    assert WRONG_LOGIN in response.content.decode()
    assert not logged_in(client)
    assert LOCKOUT_MESSAGE in attempt(client, "admin@x.test", DEFAULT_PASSWORD).content.decode()


@pytest.mark.django_db
def test_a_dotless_i_is_another_address_even_without_a_lockout(client):
    UserFactory(email="admin@x.test")
    response = attempt(client, DOTLESS, DEFAULT_PASSWORD)
    assert WRONG_LOGIN in response.content.decode()
    assert not logged_in(client)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("stored", "typed"),
    [
        ("admin@x.test", FULL_WIDTH),
        ("admin@x.test", "ADMIN@X.TEST"),
        ("seller@x.test", LONG_S),
        ("jan@\u017c\u00f3\u0142w.test", DECOMPOSED),
    ],
)
def test_every_spelling_of_an_account_logs_in_and_shares_one_counter(client, limits, stored, typed):
    UserFactory(email=stored)
    assert attempt(client, typed, DEFAULT_PASSWORD).status_code == 302
    client.post(reverse("logout"))

    # Failures under the other spelling count against the same account.
    for spelling in (typed, stored, typed, stored, typed):
        assert WRONG_LOGIN in attempt(client, spelling, "wrong").content.decode()

    for spelling in (stored, typed):
        assert LOCKOUT_MESSAGE in attempt(client, spelling, DEFAULT_PASSWORD).content.decode()
    assert not logged_in(client)


@pytest.mark.django_db
def test_mixed_case_stored_addresses_still_log_in(client):
    UserFactory(email="Ola.Nowak@Example.com", username="ola")  # e.g. from createsuperuser
    assert attempt(client, "ola.nowak@example.COM", DEFAULT_PASSWORD).status_code == 302


def signup_data(email):
    return {
        "email": email,
        "password1": "Brand-New-Secret-77",
        "password2": "Brand-New-Secret-77",
        "company_name": "Sklep",
        "company_slug": "sklep-nowy",
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("typed", "error"),
    [
        ("admin@\uff58.test", LOOKALIKE_MESSAGE),  # full-width x in the domain
        ("jan@stra\u00dfe.test", LOOKALIKE_MESSAGE),
        ("admin@x\u0131.test", "An account with this e-mail address already exists."),
        ("ADMIN@XI.TEST", "An account with this e-mail address already exists."),
    ],
)
def test_sign_up_refuses_lookalikes_of_an_existing_account(client, row_counts, typed, error):
    UserFactory(email="admin@xi.test")
    before = row_counts()
    response = client.post(reverse("signup"), signup_data(typed))
    assert response.status_code == 200
    assert error in response.content.decode()
    assert row_counts() == before


@pytest.mark.django_db
def test_sign_up_stores_the_composed_lower_case_address(client):
    response = client.post(reverse("signup"), signup_data("Jan@Z\u0307o\u0301\u0142w.test"))
    assert response.status_code == 302
    user = User.objects.get()
    assert (user.username, user.email) == ("jan@\u017c\u00f3\u0142w.test",) * 2


@pytest.mark.django_db
def test_inviting_a_lookalike_is_refused(client, tenant, admin_user, row_counts):
    client.force_login(admin_user)
    before = row_counts()
    response = client.post(
        reverse("administration:users:invite", args=[tenant.slug]),
        {"email": "\uff41dmin@alfa.example", "role": Role.USER},
    )
    assert response.status_code == 200
    assert LOOKALIKE_MESSAGE in response.content.decode()
    assert row_counts() == before


@pytest.mark.django_db
def test_a_member_is_found_by_canonical_address_and_dotless_lookalikes_are_refused(
    client, tenant, admin_user, row_counts
):
    member = UserFactory(email="info@alfa.example")
    MembershipFactory(tenant=tenant, user=member, role=Role.USER)
    assert services.is_member_email(tenant, "INFO@alfa.example")
    assert not services.is_member_email(tenant, "\u0131nfo@alfa.example")

    client.force_login(admin_user)
    before = row_counts()
    response = client.post(
        reverse("administration:users:invite", args=[tenant.slug]),
        {"email": "\u0131nfo@alfa.example", "role": Role.USER},
    )
    assert response.status_code == 200
    assert (
        "An account has an address that differs from this one only by look-alike characters."
        in response.content.decode()
    )
    assert row_counts() == before


@pytest.mark.django_db(transaction=True)
def test_password_reset_mails_the_account_for_any_spelling_but_not_a_dotless_i(client, smtp_server):
    UserFactory(email="admin@x.test")
    client.post(reverse("password_reset"), {"email": DOTLESS})
    assert smtp_server.messages == []

    client.post(reverse("password_reset"), {"email": "ADMIN@X.test"})
    [mail] = smtp_server.wait_for(1)
    assert mail.to == ["admin@x.test"]
