import time

import pytest
from django.urls import reverse

from core.health import record_beat_heartbeat

pytestmark = pytest.mark.django_db

TOKEN = "operators-only-3f9c"


@pytest.fixture
def client(client, settings):
    """An operator's client: /healthz shows it the details."""
    settings.HEALTHZ_TOKEN = TOKEN
    client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {TOKEN}"
    return client


def test_healthy_when_everything_answers_and_beat_is_fresh(client):
    record_beat_heartbeat()
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {"ok": True, "vendor": "postgresql"}
    assert body["checks"]["cache"] == {"ok": True}
    assert body["checks"]["broker"] == {"ok": True, "transport": "redis"}
    assert body["checks"]["beat"]["ok"] is True


def test_503_when_beat_never_ran(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["beat"] == {"ok": False, "error": "no heartbeat recorded yet"}


def test_503_when_beat_heartbeat_is_stale(client, settings):
    settings.BEAT_STALE_AFTER = 60
    record_beat_heartbeat(time.time() - 61)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["beat"]["ok"] is False
    assert response.json()["checks"]["beat"]["age_seconds"] >= 61


def test_503_when_the_broker_is_down(client, settings):
    record_beat_heartbeat()
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


def test_503_when_the_cache_is_down(client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get(reverse("healthz"))
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["cache"]["ok"] is False
    assert body["checks"]["beat"]["ok"] is False


def test_real_beat_and_worker_keep_healthz_green(
    client, celery_worker_process, celery_beat_process
):
    # Scheduled by the real beat process, executed by the real worker; then /healthz is green.
    from django.core.cache import cache

    from core.health import BEAT_HEARTBEAT_KEY

    deadline = time.monotonic() + 45
    while cache.get(BEAT_HEARTBEAT_KEY) is None and time.monotonic() < deadline:
        time.sleep(0.2)
    assert cache.get(BEAT_HEARTBEAT_KEY) is not None, celery_beat_process.output()[-2000:]
    response = client.get(reverse("healthz"))
    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", f"Basic {TOKEN}"])
def test_without_the_token_only_components_and_states_are_shown(settings, authorization):
    from django.test import Client

    settings.HEALTHZ_TOKEN = TOKEN
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    record_beat_heartbeat()
    headers = {"authorization": authorization} if authorization else {}
    response = Client(headers=headers).get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {
        "status": "fail",
        "checks": {
            "database": {"ok": True},
            "cache": {"ok": True},
            "broker": {"ok": False},
            "beat": {"ok": True},
        },
    }


def test_without_a_configured_token_nobody_sees_details(settings):
    from django.test import Client

    settings.HEALTHZ_TOKEN = ""
    record_beat_heartbeat()
    response = Client(headers={"authorization": "Bearer "}).get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {name: {"ok": True} for name in ("database", "cache", "broker", "beat")},
    }
