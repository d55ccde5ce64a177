"""Administracja → Klucze API: administrators create (the secret shown once) and revoke keys."""

from __future__ import annotations

import re

from django.urls import reverse
from django_scopes import scope

from api.models import ApiKey, KeyScope
from tests.api.helpers import api
from tests.factories import MembershipFactory, UserFactory


def test_an_administrator_creates_a_key_shown_once(client, tenant, admin_user):
    client.force_login(admin_user)
    url = reverse("administration:api_keys:create", args=[tenant.slug])
    response = client.post(url, {"name": "ERP", "scope": KeyScope.READ_WRITE, "rate_limit": 300})
    assert response.status_code == 200
    secret = re.search(
        r'<code id="api-key-secret">(apilo_[\w-]{43})</code>', response.content.decode()
    )[1]
    with scope(tenant=tenant):
        key = ApiKey.objects.get(tenant=tenant)
    assert (key.name, key.scope, key.rate_limit_per_minute) == ("ERP", "read_write", 300)
    assert key.created_by == admin_user
    assert key.last_four == secret[-4:]
    listing = client.get(
        reverse("administration:api_keys:list", args=[tenant.slug])
    ).content.decode()
    assert "…" + secret[-4:] in listing
    assert secret not in listing
    assert api(secret).get(reverse("api:statuses")).status_code == 200
    with scope(tenant=tenant):
        key.refresh_from_db()
    assert key.last_used_at is not None


def test_revoking_stops_the_key(client, tenant, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("administration:api_keys:create", args=[tenant.slug]),
        {"name": "Sklep", "scope": KeyScope.READ, "rate_limit": 150},
    )
    secret = re.search(r"(apilo_[\w-]{43})", response.content.decode())[1]
    with scope(tenant=tenant):
        key = ApiKey.objects.get(tenant=tenant)
    response = client.post(reverse("administration:api_keys:revoke", args=[tenant.slug, key.pk]))
    assert response.status_code == 302
    with scope(tenant=tenant):
        key.refresh_from_db()
    assert key.revoked_at is not None
    assert api(secret).get(reverse("api:statuses")).status_code == 401


def test_a_name_is_required(client, tenant, admin_user):
    client.force_login(admin_user)
    response = client.post(
        reverse("administration:api_keys:create", args=[tenant.slug]),
        {"name": "  ", "scope": KeyScope.READ, "rate_limit": 150},
    )
    assert response.status_code == 200
    assert "api-key-secret" not in response.content.decode()
    with scope(tenant=tenant):
        assert not ApiKey.objects.filter(tenant=tenant).exists()


def test_only_administrators_manage_keys(client, tenant):
    user = UserFactory(email="magazyn@alfa.example")
    MembershipFactory(tenant=tenant, user=user, role="sales_manager")
    client.force_login(user)
    for name in ("list", "create"):
        url = reverse(f"administration:api_keys:{name}", args=[tenant.slug])
        assert client.get(url).status_code == 403
    assert (
        client.post(
            reverse("administration:api_keys:create", args=[tenant.slug]),
            {"name": "x", "scope": "read"},
        ).status_code
        == 403
    )
    with scope(tenant=tenant):
        assert not ApiKey.objects.filter(tenant=tenant).exists()
