"""Tenancy: the seller company (Tenant), who belongs to it (Membership) and the base class of
every table a tenant owns (TenantOwnedModel).

Reads of tenant-owned rows go through django-scopes' fail-closed manager; writes are guarded in
TenantOwnedModel.save(), which refuses a row of another tenant than the active scope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager, get_scope


class Role(models.TextChoices):
    ADMINISTRATOR = "administrator", _("Administrator")
    SALES_MANAGER = "sales_manager", _("Sales manager")
    SHOP_MANAGER = "shop_manager", _("Shop manager")
    ACCOUNTANT = "accountant", _("Accountant")
    USER = "user", _("User")


slug_validator = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1–50 lower-case letters, digits and hyphens; no hyphen at the start or end."),
)

# Slugs that would shadow a path of the application or look official.
RESERVED_SLUGS = frozenset({"admin", "api", "app", "static", "healthz", "accounts", "o", "www"})


class Tenant(models.Model):
    """A seller company. Everything it owns carries its id."""

    name = models.CharField(_("company name"), max_length=200)
    slug = models.SlugField(_("address"), max_length=50, unique=True, validators=[slug_validator])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in a tenant. Not scoped: it is how a request finds its tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.USER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tenant", "user"], name="membership_tenant_user_uniq")
        ]
        ordering = ["tenant_id", "id"]

    def __str__(self) -> str:
        return f"{self.user} @ {self.tenant} ({self.role})"

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR


class CrossTenantWrite(Exception):
    """A row of one tenant was about to be written inside another tenant's scope."""


_M = TypeVar("_M", bound=models.Model)

if TYPE_CHECKING:
    # To a type checker the scoped manager is a plain manager (django-scopes has no types).
    _ScopedManager = models.Manager
else:
    _ScopedManager = type(ScopedManager(tenant="tenant"))


class TenantManager(_ScopedManager[_M]):
    """The manager of every tenant-owned table: django-scopes' fail-closed manager, filtered
    by the active tenant's scope (a query outside any scope raises).

    django-scopes builds its manager class inside a function; subclassing it here gives it a
    module and a name, by which django-stubs finds a model's managers and the reverse
    relations to it.
    """


class TenantOwnedModel(models.Model):
    """Base of every tenant-owned table: a tenant FK, a fail-closed manager, a write guard."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")

    objects = TenantManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        assert_writable_in_scope(self.tenant_id)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        assert_writable_in_scope(self.tenant_id)
        return super().delete(*args, **kwargs)

    def _do_update(self, base_qs: Any, *args: Any, **kwargs: Any) -> Any:
        # save()'s UPDATE names the row's tenant beside its id, so on a database distributed by
        # tenant (docs/operations/scale.md) it goes to the tenant's shard, not to every shard.
        return super()._do_update(base_qs.filter(tenant_id=self.tenant_id), *args, **kwargs)


def assert_writable_in_scope(tenant_id: int | None) -> None:
    """Refuse a write unless the active scope is this row's tenant (or scopes are disabled)."""
    scope = get_scope()
    if not scope.get("_enabled", False):
        # Outside any scope, or inside scopes_disabled(): system code (migrations, seeding,
        # the Django admin) that is explicit about working across tenants.
        if scope:
            return
        raise CrossTenantWrite("A tenant-owned row was written outside any tenant scope.")
    scoped = scope.get("tenant")
    scoped_id = getattr(scoped, "pk", scoped)
    if scoped_id is None or scoped_id != tenant_id:
        raise CrossTenantWrite(
            f"A row of tenant {tenant_id} was written inside the scope of tenant {scoped_id}."
        )


class Invitation(TenantOwnedModel):
    """An e-mail invitation to join a tenant with a role: signed, expiring, single-use.

    The link carries a signed, timestamped token naming this row and its random nonce; the row
    records acceptance, so a second use is refused even while the signature is still valid.
    """

    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.USER)
    nonce = models.CharField(max_length=43, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["tenant", "email"], name="invitation_tenant_email")]

    def __str__(self) -> str:
        return f"{self.email} → {self.tenant_id} ({self.role})"
