"""Every endpoint needs a key; writes need a read-and-write key."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions
from rest_framework.request import Request

from api.models import ApiKey


class KeyScopePermission(permissions.BasePermission):
    message = _("This API key may only read.")
    code = "key_read_only"

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        if not isinstance(key, ApiKey):
            return False
        return request.method in permissions.SAFE_METHODS or key.can_write
