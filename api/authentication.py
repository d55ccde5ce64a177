"""``Authorization: Bearer <key>``: finds the key; api.views.ApiView then runs the view inside
the key's tenant scope, as core.middleware.TenantMiddleware does for pages."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from api import keys
from api.models import ApiKey


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, ApiKey] | None:
        header = authentication.get_authorization_header(request).decode("latin-1")
        if not header:
            return None
        kind, _sep, secret = header.partition(" ")
        if kind != self.keyword or not secret.strip():
            raise exceptions.AuthenticationFailed(
                _("Send the key as “Authorization: Bearer <key>”."), code="key_malformed"
            )
        key = keys.key_for_secret(secret.strip())
        if key is None:
            raise exceptions.AuthenticationFailed(
                _("This API key is not valid or has been revoked."), code="key_invalid"
            )
        keys.mark_used(key)
        # The key acts for the person who created it (the timeline names them).
        return key.created_by or AnonymousUser(), key

    def authenticate_header(self, request: Request) -> str:
        return f'{self.keyword} realm="api"'
