"""Every 4xx of the API has one body: ``{"code", "message", "field"}``.

``core.errors.UserError`` (what every service raises) is answered with its own code, message
and field; DRF's errors (validation, authentication, permission, throttling, 404) are mapped to
the same shape. Conflicts (``CONFLICT_CODES``) answer 409, other refusals 400.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import UserError

# Refusals that are about the resource's current state, not the request.
CONFLICT_CODES = frozenset({"status_inactive", "idempotency_in_progress", "sku_taken"})


class ApiError(UserError):
    """A refusal of the API layer itself, with the HTTP status it answers."""

    def __init__(
        self, message: str, *, code: str, status_code: int, field: str | None = None
    ) -> None:
        super().__init__(message, code=code, field=field)
        self.status_code = status_code


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "field": field}


def _first_error(detail: Any, prefix: str = "") -> tuple[str | None, Any]:
    """The first (field, error) of a DRF validation error's nested detail."""
    if isinstance(detail, dict):
        for name, value in detail.items():
            field = name if name != "non_field_errors" else ""
            path = f"{prefix}.{field}" if prefix and field else (field or prefix)
            return _first_error(value, path)
    if isinstance(detail, list) and detail:
        return _first_error(detail[0], prefix)
    return (prefix or None), detail


def handle_exception(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, ApiError):
        body = error_body(exc.code, exc.message, exc.field)
        return Response(body, status=exc.status_code)
    if isinstance(exc, UserError):
        answer = status.HTTP_409_CONFLICT if exc.code in CONFLICT_CODES else 400
        return Response(error_body(exc.code, exc.message, exc.field), status=answer)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, exceptions.ValidationError):
        field, detail = _first_error(exc.detail)
        response.data = error_body(str(detail.code or "invalid"), str(detail), field)
        return response
    code = str(getattr(exc.detail, "code", None) or exc.default_code)
    message = str(exc.detail)
    if isinstance(exc, exceptions.NotFound):
        code, message = "not_found", _("Not found.")
    elif isinstance(exc, exceptions.NotAuthenticated):
        code = "key_missing"
        message = _("Send an API key as “Authorization: Bearer <key>”.")
    elif isinstance(exc, exceptions.Throttled):
        code = "rate_limited"
        message = _("Too many requests for this API key; try again in %(seconds)s s.") % {
            "seconds": response.headers.get("Retry-After", "60")
        }
    response.data = error_body(code, message)
    return response
