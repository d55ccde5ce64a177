"""Walks every URL pattern of the URLconf and proves the tenancy rules hold for each:

- anonymous visitors are sent to the login page (except for the few public pages listed here);
- a member of another tenant gets 404 for every tenant URL, whether they use the other tenant's
  address or their own address with the other tenant's object ids;
- a non-administrator gets 403 on every Administracja page.

A new URL is covered without editing this test; a new kind of object kwarg needs a builder in
tests/factories.OBJECT_BUILDERS (the test fails loudly until it has one).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.conf import settings
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from core.middleware import ADMINISTRATION_NAMESPACE, TENANT_URL_KWARG
from tests.factories import OBJECT_BUILDERS, MembershipFactory, TenantFactory, UserFactory

# Pages anyone may open without logging in. Adding one here is a conscious decision.
PUBLIC_URL_NAMES = {
    "login",
    "logout",
    "signup",
    "password_reset",
    "password_reset_done",
    "password_reset_confirm",
    "password_reset_complete",
    "accept_invitation",
    "healthz",
    "set_language",
    "customer_zone",
}
# Operator-only Django admin has its own login and permission system; the REST API is reached
# with a company's key, not a session (tests/api/test_isolation.py proves its tenancy).
SKIPPED_PREFIXES = ("admin/", "api/")
# Tenant-less kwargs that are not objects of a tenant (tokens in e-mailed links).
PUBLIC_KWARG_VALUES = {"uidb64": "MQ", "token": "set-password", "tenant_slug": None}


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    kwargs: tuple[str, ...]
    namespaces: tuple[str, ...]

    @property
    def is_tenant(self) -> bool:
        return TENANT_URL_KWARG in self.kwargs

    @property
    def object_kwargs(self) -> tuple[str, ...]:
        return tuple(k for k in self.kwargs if k == "pk" or k.endswith("_id"))

    @property
    def is_administration(self) -> bool:
        return ADMINISTRATION_NAMESPACE in self.namespaces

    def __str__(self) -> str:
        return f"{self.name} ({self.route})"


def _walk(resolver: URLResolver, prefix: str = "", namespaces: tuple[str, ...] = ()):
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from _walk(entry, route, ns)
        elif isinstance(entry, URLPattern):
            if route.startswith(SKIPPED_PREFIXES):
                continue
            assert entry.name, f"URL {route!r} has no name; every URL must be named."
            full_name = ":".join((*namespaces, entry.name))
            kwargs = tuple(entry.pattern.regex.groupindex)
            parent_kwargs = tuple(_kwargs_of(prefix))
            yield Route(full_name, route, parent_kwargs + kwargs, namespaces)


def _kwargs_of(route: str) -> list[str]:
    import re

    return re.findall(r"<(?:\w+:)?(\w+)>", route)


ROUTES = sorted(set(_walk(get_resolver())), key=lambda r: r.name)
TENANT_ROUTES = [r for r in ROUTES if r.is_tenant]
OBJECT_ROUTES = [r for r in TENANT_ROUTES if r.object_kwargs]
ADMINISTRATION_ROUTES = [r for r in TENANT_ROUTES if r.is_administration]
PRIVATE_ROUTES = [r for r in ROUTES if r.name.split(":")[-1] not in PUBLIC_URL_NAMES]


def test_the_walk_finds_the_tenant_pages():
    names = {r.name for r in ROUTES}
    assert "tenant_home" in names
    assert all(not r.route.startswith("admin/") for r in ROUTES)


def _url(route: Route, tenant, objects: dict[str, object]) -> str:
    kwargs = {}
    for name in route.kwargs:
        if name == TENANT_URL_KWARG:
            kwargs[name] = tenant.slug
        elif name in route.object_kwargs:
            assert name in OBJECT_BUILDERS, (
                f"{route}: no builder for URL kwarg {name!r}; add one to "
                "tests/factories.OBJECT_BUILDERS so tenant isolation covers it."
            )
            kwargs[name] = objects[name].pk
        else:
            kwargs[name] = PUBLIC_KWARG_VALUES.get(name, "x")
    return reverse(route.name, kwargs=kwargs)


@pytest.fixture
def alfa(db):
    tenant = TenantFactory(name="Alfa", slug="alfa")
    admin = UserFactory(email="boss@alfa.example")
    MembershipFactory(tenant=tenant, user=admin, role="administrator")
    objects = {name: build(tenant) for name, build in OBJECT_BUILDERS.items()}
    return tenant, admin, objects


@pytest.fixture
def beta(db):
    tenant = TenantFactory(name="Beta", slug="beta")
    admin = UserFactory(email="boss@beta.example")
    MembershipFactory(tenant=tenant, user=admin, role="administrator")
    objects = {name: build(tenant) for name, build in OBJECT_BUILDERS.items()}
    return tenant, admin, objects


@pytest.mark.parametrize("route", PRIVATE_ROUTES, ids=str)
def test_anonymous_visitors_are_sent_to_login(client, alfa, route):
    tenant, _, objects = alfa
    url = _url(route, tenant, objects)
    for method in ("get", "post"):
        response = getattr(client, method)(url)
        if response.status_code == 405:
            continue
        assert response.status_code == 302, f"{method.upper()} {url}"
        assert response["Location"].startswith(reverse(settings.LOGIN_URL)), response["Location"]


@pytest.mark.parametrize("route", TENANT_ROUTES, ids=str)
def test_member_of_another_tenant_gets_404_on_its_address(client, alfa, beta, route):
    tenant, _, objects = alfa
    _, outsider, _ = beta
    client.force_login(outsider)
    url = _url(route, tenant, objects)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


@pytest.mark.parametrize("route", OBJECT_ROUTES, ids=str)
def test_other_tenants_object_ids_answer_404_under_own_address(client, alfa, beta, route):
    alfa_tenant, alfa_admin, alfa_objects = alfa
    beta_tenant, beta_admin, _ = beta

    # The same URL with the tenant's own objects works, so a 404 below is the tenancy rule.
    client.force_login(alfa_admin)
    own = _url(route, alfa_tenant, alfa_objects)
    assert client.get(own).status_code in (200, 302, 405), own

    client.force_login(beta_admin)
    foreign = _url(route, beta_tenant, alfa_objects)
    statuses = {client.get(foreign).status_code, client.post(foreign).status_code}
    assert statuses <= {404, 405} and 404 in statuses, (foreign, statuses)


@pytest.mark.parametrize("route", ADMINISTRATION_ROUTES, ids=str)
@pytest.mark.parametrize("role", ["sales_manager", "shop_manager", "accountant", "user"])
def test_non_administrators_get_403_on_administration(client, alfa, route, role):
    tenant, _, objects = alfa
    member = UserFactory()
    MembershipFactory(tenant=tenant, user=member, role=role)
    client.force_login(member)
    url = _url(route, tenant, objects)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
