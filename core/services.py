"""Business operations on tenants and memberships. Views call these; they never write directly."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from core.models import Membership, Role, Tenant
from orders.services import seed_default_statuses


@transaction.atomic
def create_tenant(*, name: str, slug: str, owner: AbstractBaseUser) -> Tenant:
    """A new seller company with its owner as administrator and the default statuses."""
    tenant = Tenant.objects.create(name=name.strip(), slug=slug)
    Membership.objects.create(tenant=tenant, user=owner, role=Role.ADMINISTRATOR)
    seed_default_statuses(tenant)
    return tenant
