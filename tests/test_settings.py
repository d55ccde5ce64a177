"""Production-safe defaults: no SECRET_KEY or mail server outside development is an error;
secure cookies and headers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

REPO = Path(__file__).resolve().parent.parent


def _import_settings(**env: str) -> subprocess.CompletedProcess:
    # Without what apilo/settings_test.py put into this process's environment.
    dropped = {
        "SECRET_KEY",
        "DEBUG",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "EMAIL_URL",
    }
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean["APILO_ENV_FILE"] = os.devnull  # a developer's .env must not decide these tests
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import apilo.settings as s; "
            "print(s.DEBUG, s.SESSION_COOKIE_SECURE, s.SECURE_HSTS_SECONDS, s.EMAIL_BACKEND, "
            "s.LANGUAGE_COOKIE_SECURE, s.LANGUAGE_COOKIE_HTTPONLY, s.LANGUAGE_COOKIE_SAMESITE)",
        ],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )


def test_secret_key_is_required_when_debug_is_off():
    result = _import_settings()
    assert result.returncode == 1
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_defaults_are_production_safe():
    result = _import_settings(SECRET_KEY="s3cret", EMAIL_URL="smtp+tls://u:p@smtp.example:587")
    assert result.stdout.split() == [
        "False",
        "True",
        "31536000",
        "django.core.mail.backends.smtp.EmailBackend",
        "True",
        "True",
        "Lax",
    ]


def test_development_mode_needs_no_secret_key_and_prints_mail_to_the_console():
    result = _import_settings(DEBUG="1")
    assert result.stdout.split() == [
        "True",
        "False",
        "0",
        "django.core.mail.backends.console.EmailBackend",
        "False",
        "True",
        "Lax",
    ]


def test_a_mail_server_is_required_when_debug_is_off():
    result = _import_settings(SECRET_KEY="s3cret")
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        "django.core.exceptions.ImproperlyConfigured: EMAIL_URL must be set when DEBUG is off, "
        "e.g. smtp+tls://user:password@smtp.example.com:587 (mail is never printed to the "
        "console outside development)."
    ) in result.stderr


def test_the_console_is_refused_as_mail_server_when_debug_is_off():
    result = _import_settings(SECRET_KEY="s3cret", EMAIL_URL="consolemail://")
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        "EMAIL_URL=consolemail:// prints password-reset and invitation links to the logs; it is "
        "for development (DEBUG on) only."
    ) in result.stderr


@pytest.mark.django_db
def test_the_language_cookie_is_secure_http_only_and_same_site(client, settings):
    settings.LANGUAGE_COOKIE_SECURE = True  # the production default (see above)
    response = client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies["django_language"].output() == (
        "Set-Cookie: django_language=en; HttpOnly; Path=/; SameSite=Lax; Secure"
    )


@pytest.mark.django_db
def test_pages_carry_the_security_headers(client):
    response = client.get(reverse("login"))
    directives = set(response["Content-Security-Policy"].split("; "))
    assert directives == {
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
    }
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def _manage(*args: str) -> subprocess.CompletedProcess:
    """manage.py as on a fresh clone: no SECRET_KEY, no DEBUG, no .env."""
    dropped = {"SECRET_KEY", "DEBUG", "DJANGO_SETTINGS_MODULE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean["APILO_ENV_FILE"] = os.devnull
    clean["DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/apilo_no_such_database"
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=REPO, env=clean, capture_output=True, text=True
    )


def test_a_fresh_clone_checks_its_migrations_without_a_secret_key():
    result = _manage("makemigrations", "--check", "--dry-run")
    assert (result.returncode, result.stdout.strip()) == (0, "No changes detected")


def test_other_commands_still_need_the_secret_key():
    result = _manage("createsuperuser", "--noinput")
    assert result.returncode == 1


def _push_settings(**env: str) -> list[str]:
    """The push outbox's settings (and the sweeper's beat entry) as apilo/settings.py reads them."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FULFILLMENT_")}
    clean["APILO_ENV_FILE"] = os.devnull
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import apilo.settings as s; b = s.CELERY_BEAT_SCHEDULE['fulfillment-sweep']; "
            "print(s.FULFILLMENT_SWEEP_SECONDS, b['schedule'], b['options']['expires'], "
            "s.FULFILLMENT_REDISPATCH_AFTER_SECONDS, s.FULFILLMENT_DISPATCH_ON_COMMIT, "
            "s.FULFILLMENT_DISPATCH_BATCH, s.FULFILLMENT_TAKE_WAITING, "
            "s.FULFILLMENT_CARRIERS_CACHE_SECONDS)",
        ],
        cwd=REPO,
        env={**clean, "SECRET_KEY": "s3cret", "EMAIL_URL": "dummymail://", **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


def test_the_push_outbox_has_one_default_per_setting():
    assert _push_settings() == ["10.0", "10.0", "10.0", "15.0", "True", "10", "50", "86400"]


def test_the_push_outbox_reads_its_settings_from_the_environment():
    assert _push_settings(
        FULFILLMENT_SWEEP_SECONDS="2.5",
        FULFILLMENT_REDISPATCH_AFTER_SECONDS="3",
        FULFILLMENT_DISPATCH_ON_COMMIT="0",
        FULFILLMENT_DISPATCH_BATCH="4",
        FULFILLMENT_TAKE_WAITING="0",
        FULFILLMENT_CARRIERS_CACHE_SECONDS="60",
    ) == ["2.5", "2.5", "2.5", "3.0", "False", "4", "0", "60"]


def test_a_broker_behind_sentinel_gets_the_name_of_its_master():
    env = {
        "SECRET_KEY": "x" * 50,
        "EMAIL_URL": "smtp://127.0.0.1:25",
        "CELERY_BROKER_URL": "sentinel://127.0.0.1:26379/0;sentinel://127.0.0.2:26379/0",
        "CELERY_BROKER_SENTINEL_MASTER": "apilo-broker",
    }
    dropped = {"DEBUG", "SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE", "LANGUAGE_COOKIE_SECURE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    clean["APILO_ENV_FILE"] = os.devnull
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import apilo.settings as s; "
            "print(s.CELERY_BROKER_URL, s.CELERY_BROKER_TRANSPORT_OPTIONS)",
        ],
        cwd=REPO,
        env={**clean, **env},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "sentinel://127.0.0.1:26379/0;sentinel://127.0.0.2:26379/0 {'master_name': 'apilo-broker'}"
    )
