"""Login throttling: per e-mail and per client address, counters in Redis, hashed keys."""

from __future__ import annotations

import time

import pytest
from django.core.cache import cache
from django.urls import reverse

from core import throttling
from tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.usefixtures("english")

LOCKOUT_MESSAGE = "Too many failed login attempts."


@pytest.fixture
def limits(settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_LOCKOUT_SECONDS = 900
    return settings


@pytest.fixture
def user(db):
    return UserFactory(email="ola@example.com")


def attempt(client, email, password, ip="10.0.0.1"):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_after_the_limit_even_the_right_password_is_refused(client, user, limits):
    for _ in range(3):
        response = attempt(client, user.email, "wrong")
        assert "Wrong e-mail or password." in response.content.decode()

    response = attempt(client, "OLA@example.com", DEFAULT_PASSWORD)

    assert response.status_code == 200
    page = response.content.decode()
    assert LOCKOUT_MESSAGE in page
    assert "logging in is blocked for 15 minutes" in page
    assert not logged_in(client)


def test_the_lockout_ends_when_the_window_passes(client, user, limits):
    limits.LOGIN_LOCKOUT_SECONDS = 1
    for _ in range(3):
        attempt(client, user.email, "wrong")
    assert LOCKOUT_MESSAGE in attempt(client, user.email, DEFAULT_PASSWORD).content.decode()

    time.sleep(1.5)  # Redis expires the counter

    response = attempt(client, user.email, DEFAULT_PASSWORD)
    assert response.status_code == 302
    assert logged_in(client)


def test_a_successful_login_clears_the_email_counter(client, user, limits):
    for _ in range(2):
        attempt(client, user.email, "wrong")
    assert attempt(client, user.email, DEFAULT_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(2):
        attempt(client, user.email, "wrong")
    # 4 failures in all, but never 3 in a row: not locked.
    assert attempt(client, user.email, DEFAULT_PASSWORD).status_code == 302


def test_the_client_address_is_limited_across_emails(client, user, limits):
    # 4 × 3 = 12 failures from one address, spread over e-mails that each stay under 3.
    for n in range(12):
        attempt(client, f"guess{n % 6}@example.com", "wrong", ip="10.9.9.9")

    from_same_address = attempt(client, user.email, DEFAULT_PASSWORD, ip="10.9.9.9")
    assert LOCKOUT_MESSAGE in from_same_address.content.decode()
    assert not logged_in(client)

    from_elsewhere = attempt(client, user.email, DEFAULT_PASSWORD, ip="10.0.0.2")
    assert from_elsewhere.status_code == 302


def test_a_locked_email_is_locked_from_every_address(client, user, limits):
    for n in range(3):
        attempt(client, user.email, "wrong", ip=f"10.0.1.{n}")
    response = attempt(client, user.email, DEFAULT_PASSWORD, ip="10.0.2.1")
    assert LOCKOUT_MESSAGE in response.content.decode()


def test_unknown_emails_count_too_and_the_cache_keys_hold_no_address(client, db, limits):
    for _ in range(3):
        attempt(client, "Nobody@Example.com", "wrong", ip="10.7.7.7")
    assert throttling.is_locked("nobody@example.com", "")

    redis = cache._cache.get_client(write=False)
    keys = [key.decode() for key in redis.scan_iter(match="*login-failures*")]
    assert len(keys) == 2  # one per e-mail, one per client address
    for key in keys:
        assert "nobody" not in key.lower()
        assert "10.7.7.7" not in key
        assert key.split(":")[-1].isalnum() and len(key.split(":")[-1]) == 64  # a sha256 HMAC


# --- The client address behind proxies -----------------------------------------------------

PROXY = "10.0.0.254"


def from_behind_proxy(client, email, password, forwarded_for):
    return client.post(
        reverse("login"),
        {"username": email, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
    )


def test_without_trusted_proxies_x_forwarded_for_is_ignored(client, user, limits):
    limits.TRUSTED_PROXY_COUNT = 0
    # A client that writes a new X-Forwarded-For on every attempt is still one address.
    for n in range(12):
        from_behind_proxy(client, f"guess{n % 6}@example.com", "wrong", f"198.51.100.{n}")
    response = from_behind_proxy(client, user.email, DEFAULT_PASSWORD, "198.51.100.99")
    assert LOCKOUT_MESSAGE in response.content.decode()
    assert not logged_in(client)


def test_behind_a_trusted_proxy_two_clients_are_counted_apart(client, user, limits):
    limits.TRUSTED_PROXY_COUNT = 1
    # The client's own X-Forwarded-For entries (left of what the proxy appended) change on
    # every attempt; the address the proxy saw does not.
    for n in range(12):
        from_behind_proxy(
            client, f"guess{n % 6}@example.com", "wrong", f"198.51.100.{n}, 203.0.113.5"
        )
    locked = from_behind_proxy(client, user.email, DEFAULT_PASSWORD, "203.0.113.5")
    assert LOCKOUT_MESSAGE in locked.content.decode()
    assert not logged_in(client)

    other_client = from_behind_proxy(client, user.email, DEFAULT_PASSWORD, "203.0.113.6")
    assert other_client.status_code == 302
    assert logged_in(client)


@pytest.mark.parametrize(
    ("proxies", "remote", "forwarded_for", "expected"),
    [
        (0, "10.0.0.254", "203.0.113.5", "10.0.0.254"),
        (1, "10.0.0.254", "203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.254", "1.2.3.4, 203.0.113.5", "203.0.113.5"),
        (1, "10.0.0.254", " 2001:db8::1 ", "2001:db8::1"),
        (2, "10.0.0.254", "1.2.3.4, 203.0.113.5, 10.0.0.9", "203.0.113.5"),
        (2, "10.0.0.254", "203.0.113.5", "10.0.0.254"),  # fewer entries than proxies
        (1, "10.0.0.254", "", "10.0.0.254"),
        (1, "10.0.0.254", "1.2.3.4, not-an-address", "10.0.0.254"),
    ],
)
def test_client_ip(rf, settings, proxies, remote, forwarded_for, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded_for)
    assert throttling.client_ip(request) == expected
