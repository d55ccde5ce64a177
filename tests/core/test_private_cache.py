"""Pages of a logged-in user are never cached (Cache-Control: private, no-store); anonymous
pages and static files keep their own headers."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_logged_in_page_is_private_and_not_stored(client, tenant, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("tenant_home", args=[tenant.slug]))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_a_never_cache_page_keeps_its_directives(client, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("signup"))  # a signed-in user may create another company
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"


def test_anonymous_pages_are_left_alone(client):
    response = client.get(reverse("password_reset"))
    assert response.status_code == 200
    assert "Cache-Control" not in response


def test_static_files_stay_cacheable_for_a_logged_in_user(client, admin_user, settings):
    # WhiteNoise as in development (files found where they live, no collectstatic needed): it
    # answers before any later middleware, whoever is logged in.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_MAX_AGE = 3600
    client.force_login(admin_user)
    response = client.get("/static/apilo/apilo.css")
    assert response.status_code == 200
    assert response["Cache-Control"] == "max-age=3600, public"
