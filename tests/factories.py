"""factory_boy factories. A tenant made here gets its default statuses, as in production."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django_scopes import scope

from core.models import Membership, Role, Tenant
from orders.services import seed_default_statuses

DEFAULT_PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Sklep {n}")
    slug = factory.Sequence(lambda n: f"sklep-{n}")

    @factory.post_generation
    def statuses(obj, create, extracted, **kwargs):
        if create:
            seed_default_statuses(obj)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.USER


def in_scope(tenant: Tenant):
    """`with in_scope(tenant):` — the scope a tenant's request or task runs in."""
    return scope(tenant=tenant)
