"""API keys: creating (the secret is returned once), revoking, finding the key of a request.

Owns every write of ``ApiKey``. The secret is ``apilo_`` + 43 url-safe characters (256 random
bits); only its sha256 is stored, so a leaked database gives no usable key.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from api.models import ApiKey, KeyScope
from core.errors import UserError
from core.models import Tenant

PREFIX = "apilo_"
# last_used_at is written at most this often per key: one UPDATE a minute, not one a request.
LAST_USED_PRECISION = timedelta(minutes=1)


class ApiKeyError(UserError):
    """A refused change of an API key."""


@dataclass(frozen=True)
class NewKey:
    key: ApiKey
    secret: str  # shown once, never stored


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    tenant: Tenant, *, name: str, scope: str, created_by: User | None, rate_limit: int | None = None
) -> NewKey:
    name = name.strip()
    if not name:
        raise ApiKeyError(_("Give the key a name."), code="name_required", field="name")
    if scope not in KeyScope.values:
        raise ApiKeyError(_("Choose the key's access."), code="scope_invalid", field="scope")
    secret = PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        tenant=tenant,
        name=name,
        scope=scope,
        secret_hash=hash_secret(secret),
        last_four=secret[-4:],
        created_by=created_by,
        rate_limit_per_minute=rate_limit or settings.API_DEFAULT_RATE_LIMIT_PER_MINUTE,
    )
    key.save()
    return NewKey(key, secret)


def revoke_key(key: ApiKey) -> bool:
    """Revoke the key (for good); False if it already was."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = timezone.now()
    key.save(update_fields=["revoked_at"])
    return True


def key_for_secret(secret: str) -> ApiKey | None:
    """The live key with this secret, or None. Looked up by hash across tenants (a request
    has no tenant before its key is known), then compared in constant time."""
    if not secret.startswith(PREFIX) or len(secret) > 200:
        return None
    digest = hash_secret(secret)
    with scopes_disabled():
        key = ApiKey.objects.select_related("tenant").filter(secret_hash=digest).first()
    if key is None or not hmac.compare_digest(key.secret_hash, digest):
        return None
    if key.revoked_at is not None:
        return None
    return key


def mark_used(key: ApiKey) -> None:
    """Record that the key was used now (at most once per LAST_USED_PRECISION)."""
    now = timezone.now()
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_PRECISION:
        return
    with scopes_disabled():
        ApiKey.objects.filter(tenant_id=key.tenant_id, pk=key.pk).update(last_used_at=now)
    key.last_used_at = now
