"""Sign-up, login/logout and password reset, with mail received by a real SMTP server."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from core import services
from core.models import Membership, Role, Tenant
from orders.models import OrderStatus
from tests.factories import DEFAULT_PASSWORD, MembershipFactory, TenantFactory, UserFactory

pytestmark = pytest.mark.usefixtures("english")

User = get_user_model()
NEW_PASSWORD = "Brand-New-Secret-77"


def signup_data(**overrides):
    data = {
        "email": "Anna@Example.com",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "company_name": "Sklep Anny",
        "company_slug": "sklep-anny",
    }
    data.update(overrides)
    return data


def is_logged_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- Sign-up ---------------------------------------------------------------------------------


def test_signup_creates_user_and_company_logs_in_and_mails_welcome(
    client, smtp_server, transactional_db, settings
):
    settings.SITE_URL = "https://apilo.example"

    response = client.post(reverse("signup"), signup_data(), follow=True)

    assert response.redirect_chain == [("/app/sklep-anny/", 302)]
    assert "Welcome to apilo! Your company Sklep Anny is ready." in response.content.decode()
    user = User.objects.get()
    assert (user.username, user.email) == ("anna@example.com", "anna@example.com")
    assert user.check_password(NEW_PASSWORD)
    tenant = Tenant.objects.get()
    assert (tenant.name, tenant.slug) == ("Sklep Anny", "sklep-anny")
    assert list(Membership.objects.values_list("tenant", "user", "role")) == [
        (tenant.pk, user.pk, Role.ADMINISTRATOR)
    ]
    with scope(tenant=tenant):
        assert OrderStatus.objects.count() == 7
    assert int(client.session["_auth_user_id"]) == user.pk

    [mail] = smtp_server.wait_for(1)
    assert mail.to == ["anna@example.com"]
    assert mail.subject == "Welcome to apilo: Sklep Anny is ready"
    assert "your company Sklep Anny has its back office in apilo" in mail.text
    assert mail.first_link() == "https://apilo.example/app/sklep-anny/"


def test_signup_page_and_login_page_link_to_each_other(client, db):
    signup_page = client.get(reverse("signup")).content.decode()
    login_page = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("login")}"' in signup_page
    assert f'href="{reverse("signup")}"' in login_page
    assert f'href="{reverse("password_reset")}"' in login_page
    for name in ("email", "password1", "password2", "company_name", "company_slug"):
        assert f'name="{name}"' in signup_page


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("alfa", "This address is already taken. Choose another one."),
        ("admin", "This address is reserved by apilo. Choose another one."),
        ("api", "This address is reserved by apilo. Choose another one."),
        ("-bad-", "Use 1–50 lower-case letters, digits and hyphens"),
        ("sklep anny", "Use 1–50 lower-case letters, digits and hyphens"),
    ],
)
def test_signup_refuses_taken_reserved_and_malformed_slugs(
    client, tenant, row_counts, smtp_server, slug, message
):
    before = row_counts()
    response = client.post(reverse("signup"), signup_data(company_slug=slug))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert row_counts() == before
    assert not is_logged_in(client)
    assert smtp_server.messages == []


def test_signup_refuses_a_registered_email_whatever_its_case(client, admin_user, row_counts):
    before = row_counts()
    response = client.post(reverse("signup"), signup_data(email="ADMIN@Alfa.Example"))
    assert "An account with this e-mail address already exists." in response.content.decode()
    assert row_counts() == before


def test_signup_refuses_mismatched_and_weak_passwords(client, db, row_counts):
    before = row_counts()
    response = client.post(reverse("signup"), signup_data(password2="Something-Else-99"))
    assert "The two passwords do not match." in response.content.decode()
    response = client.post(reverse("signup"), signup_data(password1="12345", password2="12345"))
    assert "This password is too short." in response.content.decode()
    assert row_counts() == before


def test_sign_up_service_turns_a_slug_race_into_a_form_error_and_saves_nothing(db, row_counts):
    # The form checked the slug; another sign-up took it before our INSERT: the unique
    # constraint fires, the transaction (user included) rolls back, the error names the field.
    TenantFactory(slug="sklep-anny")
    before = row_counts()
    with pytest.raises(services.SlugTaken) as raised:
        services.sign_up(
            email="anna@example.com",
            password=NEW_PASSWORD,
            company_name="Sklep Anny",
            company_slug="sklep-anny",
        )
    assert raised.value.field == "company_slug"
    assert raised.value.message == "This address is already taken. Choose another one."
    assert row_counts() == before
    assert not User.objects.filter(email="anna@example.com").exists()


def test_sign_up_service_turns_an_email_race_into_a_form_error(db, row_counts):
    UserFactory(email="anna@example.com", username="anna@example.com")
    before = row_counts()
    with pytest.raises(services.EmailTaken) as raised:
        services.sign_up(
            email="Anna@example.com",
            password=NEW_PASSWORD,
            company_name="Sklep Anny",
            company_slug="sklep-anny",
        )
    assert raised.value.field == "email"
    assert row_counts() == before


def test_signed_in_user_creates_another_company(client, admin_user, tenant):
    client.force_login(admin_user)
    page = client.get(reverse("signup")).content.decode()
    assert 'name="email"' not in page
    response = client.post(
        reverse("signup"), {"company_name": "Druga firma", "company_slug": "druga"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/app/druga/"
    assert Membership.objects.get(tenant__slug="druga").user == admin_user


# --- Login and logout ------------------------------------------------------------------------


def test_login_with_email_in_any_case_then_logout_by_post(client, admin_user, tenant):
    response = client.post(
        reverse("login"), {"username": "Admin@ALFA.example", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == admin_user.pk
    assert client.get(reverse("logout")).status_code == 405  # no logout by a GET (CSRF)
    assert is_logged_in(client)
    response = client.post(reverse("logout"))
    assert response["Location"] == reverse("login")
    assert not is_logged_in(client)


def test_login_with_a_wrong_password_says_so(client, admin_user):
    response = client.post(reverse("login"), {"username": admin_user.email, "password": "nope"})
    assert response.status_code == 200
    assert "Wrong e-mail or password." in response.content.decode()
    assert not is_logged_in(client)


# --- Password reset --------------------------------------------------------------------------


def test_password_reset_by_mail_to_the_end(client, smtp_server, transactional_db, settings):
    settings.SITE_URL = "https://apilo.example"
    user = UserFactory(email="ola@example.com")
    membership = MembershipFactory(user=user, role=Role.USER)

    response = client.post(reverse("password_reset"), {"email": "OLA@example.com"})
    assert response["Location"] == reverse("password_reset_done")

    [mail] = smtp_server.wait_for(1)
    assert mail.to == ["ola@example.com"]
    assert mail.subject == "Reset your apilo password"
    link = mail.first_link()
    assert link.startswith("https://apilo.example/accounts/password-reset/")

    response = client.get(urlsplit(link).path, follow=True)
    assert "Choose a new password" in response.content.decode()
    set_password_url = response.redirect_chain[-1][0]
    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response["Location"] == reverse("password_reset_complete")

    fresh = Client(headers={"accept-language": "en"})
    refused = fresh.post(reverse("login"), {"username": user.email, "password": DEFAULT_PASSWORD})
    assert "Wrong e-mail or password." in refused.content.decode()
    response = fresh.post(
        reverse("login"), {"username": user.email, "password": NEW_PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == f"/app/{membership.tenant.slug}/"
    assert int(fresh.session["_auth_user_id"]) == user.pk

    # The link works once.
    used = client.get(urlsplit(link).path, follow=True)
    assert "This link no longer works" in used.content.decode()


def test_password_reset_for_an_unknown_address_looks_the_same_and_sends_nothing(
    client, smtp_server, transactional_db
):
    response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response["Location"] == reverse("password_reset_done")
    assert smtp_server.messages == []


def test_password_reset_mails_are_capped_per_address_per_hour(
    client, smtp_server, transactional_db, settings
):
    settings.PASSWORD_RESET_MAILS_PER_HOUR = 3
    UserFactory(email="ola@example.com")
    UserFactory(email="jan@example.com")

    for _ in range(5):
        response = client.post(reverse("password_reset"), {"email": "ola@example.com"})
        # The page answers the same whether or not a mail went out.
        assert response["Location"] == reverse("password_reset_done")
    client.post(reverse("password_reset"), {"email": "jan@example.com"})

    # Account mails go out synchronously after commit: all are in when the requests return.
    assert [m.to for m in smtp_server.messages] == [
        ["ola@example.com"],
        ["ola@example.com"],
        ["ola@example.com"],
        ["jan@example.com"],
    ]
