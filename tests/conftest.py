"""Shared fixtures: two tenants with members of every role, and scope helpers."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import MembershipFactory, TenantFactory, UserFactory

pytest_plugins = [
    # Fails any test that makes a request to Allegro inside a database transaction.
    "tests.http_guard",
    "tests.sandbox_support",
    "tests.celery_support",
    "tests.mail_support",
    # --tenant-query-log: every query on a tenant-distributed table names its tenant (Citus).
    "tests.tenant_queries",
]


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield


@pytest.fixture
def tenant(db):
    return TenantFactory(name="Sklep Alfa", slug="alfa")


@pytest.fixture
def other_tenant(db):
    return TenantFactory(name="Sklep Beta", slug="beta")


@pytest.fixture
def admin_user(tenant):
    user = UserFactory(email="admin@alfa.example")
    MembershipFactory(tenant=tenant, user=user, role="administrator")
    return user


@pytest.fixture
def staff_user(tenant):
    user = UserFactory(email="staff@alfa.example")
    MembershipFactory(tenant=tenant, user=user, role="user")
    return user


@pytest.fixture
def other_admin(other_tenant):
    user = UserFactory(email="admin@beta.example")
    MembershipFactory(tenant=other_tenant, user=user, role="administrator")
    return user
