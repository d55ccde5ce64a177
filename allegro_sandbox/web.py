"""Tiny request/response objects used by the handlers (no framework)."""

from __future__ import annotations

import html
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from .errors import PUBLIC_V1, ApiError, errors


class Request:
    def __init__(
        self, method: str, path: str, query: str, headers: Any, body: bytes, base_url: str
    ) -> None:
        self.method = method
        self.path = path
        self.query = parse_qs(query, keep_blank_values=True)
        self.raw_query = query
        self.headers = headers
        self.body = body
        self.base_url = base_url
        self.params: dict[str, str] = {}  # route params
        self.trace_id = ""
        self.auth: Any = None  # Token once authenticated

    def q(self, name: str, default: str | None = None) -> str | None:
        v = self.query.get(name)
        return v[0] if v else default

    def qlist(self, name: str) -> list[str]:
        out: list[str] = []
        for v in self.query.get(name, []):
            out.extend(x for x in v.split(",") if x)
        return out

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def form(self) -> dict[str, str]:
        ctype = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        if ctype and ctype != "application/x-www-form-urlencoded":
            return {}
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items()}

    def json(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError):
            raise errors(
                400, "JsonParseException", "Request body is not valid JSON", path=self.path
            ) from None

    def cookies(self) -> dict[str, str]:
        c = SimpleCookie()
        try:
            c.load(self.header("Cookie") or "")
        except Exception:
            return {}
        return {k: m.value for k, m in c.items()}


class Response:
    def __init__(
        self,
        status: int = 200,
        body: bytes = b"",
        content_type: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or []
        self.action: str | None = None  # "hang" | "reset" for fault injection


def json_response(
    obj: Any, status: int = 200, content_type: str = PUBLIC_V1, raw: bytes | None = None
) -> Response:
    body = raw if raw is not None else json.dumps(obj, ensure_ascii=False).encode()
    return Response(status, body, content_type)


def control_json(obj: Any, status: int = 200) -> Response:
    return Response(
        status, json.dumps(obj, ensure_ascii=False, default=str).encode(), "application/json"
    )


def error_response(err: ApiError) -> Response:
    r = json_response(err.body, err.status, err.content_type)
    r.headers.extend(err.headers.items())
    return r


def html_page(title: str, body: str, status: int = 200, refresh: int | None = None) -> Response:
    meta = f'<meta http-equiv="refresh" content="{refresh}">' if refresh else ""
    doc = (
        "<!doctype html><html lang=pl><head><meta charset=utf-8>"
        f"<title>{html.escape(title)}</title>{meta}"
        "<style>body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 6px;"
        "font-size:13px;text-align:left}th{background:#f3f3f3}"
        ".box{border:1px solid #ff5a00;padding:1em;max-width:28em}"
        "header{background:#ff5a00;color:#fff;padding:.5em 1em;margin:-2em -2em 1em}"
        "input{margin:.2em 0}</style></head><body>"
        "<header><b>allegro</b> sandbox</header>"
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(status, doc.encode(), "text/html; charset=utf-8")


def redirect(location: str, status: int = 302) -> Response:
    return Response(status, b"", "text/plain", [("Location", location)])
