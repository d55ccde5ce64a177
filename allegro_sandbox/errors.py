"""Error bodies shaped the way Allegro sends them."""

from __future__ import annotations

from typing import Any

PUBLIC_V1 = "application/vnd.allegro.public.v1+json"


class ApiError(Exception):
    """Raised by handlers; the server turns it into a response."""

    def __init__(
        self,
        status: int,
        body: dict[str, Any] | None,
        headers: dict[str, str] | None = None,
        content_type: str = PUBLIC_V1,
    ) -> None:
        super().__init__(f"{status}: {body}")
        self.status = status
        self.body = body
        self.headers = headers or {}
        self.content_type = content_type


def error_item(
    code: str,
    message: str,
    path: str | None = None,
    user_message: str | None = None,
    details: str | None = None,
    metadata: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "details": details,
        "path": path,
        "userMessage": user_message if user_message is not None else message,
        "metadata": metadata or {},
    }


def errors(status: int, code: str, message: str, path: str | None = None, **kw: Any) -> ApiError:
    return ApiError(status, {"errors": [error_item(code, message, path, **kw)]})


def auth_error(status: int, error: str, description: str, **headers: str) -> ApiError:
    """AuthError body ({error, error_description}) as Spring Security OAuth sends it."""
    return ApiError(
        status,
        {"error": error, "error_description": description},
        headers=dict(headers),
        content_type="application/json;charset=UTF-8",
    )
