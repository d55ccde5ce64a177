"""Spec validation, a tiny Allegro API client and a connected seller, used by the sandbox tests.

Every API response seen through ``Api`` is validated against the official spec copies in
``allegro_sandbox/spec/`` (orders, offers and /me; "Shipment management"), OAS 3.0 with
``$ref``s resolved.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import requests
import yaml
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from tests.sandbox_support import SandboxControl

SPEC_DIR = Path(__file__).resolve().parents[2] / "allegro_sandbox/spec"
SPEC_PATH = SPEC_DIR / "openapi-orders-offers.yaml"
SHIPMENT_SPEC_PATH = SPEC_DIR / "openapi-shipment-management.yaml"
PUBLIC_V1 = "application/vnd.allegro.public.v1+json"
REDIRECT = "https://shop.example.com/allegro/callback"
# The one documented deviation: Allegro staff (allegro-api#8496) say event-stats answers
# {"latestEvent": null} when there are no events, but the spec does not mark it nullable.
KNOWN_DEVIATIONS = {("/order/event-stats", 200): [{"latestEvent": None}]}
# And an empty checkout-form page has "count": 0 (and "totalCount": 0 when nothing matches)
# while the spec says minimum 1; such zeros are validated as 1 (the tests assert them exactly).


@cache
def spec() -> dict[str, Any]:
    merged = yaml.safe_load(SPEC_PATH.read_text())
    shipments = yaml.safe_load(SHIPMENT_SPEC_PATH.read_text())
    merged["paths"].update(shipments["paths"])
    for name, schema in shipments["components"]["schemas"].items():
        merged["components"]["schemas"].setdefault(name, schema)
    return merged


@cache
def _templates() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in spec()["paths"]:
        rx = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        out.append((re.compile(rx), template))
    # literal paths first (/order/checkout-forms before /order/checkout-forms/{id})
    out.sort(key=lambda p: p[1].count("{"))
    return out


def template_for(path: str) -> str | None:
    for rx, template in _templates():
        if rx.match(path):
            return template
    return None


def response_schema(method: str, template: str, status: int) -> dict[str, Any]:
    op = spec()["paths"][template][method.lower()]
    resp = op["responses"].get(str(status), {})
    for media in resp.get("content", {}).values():
        if "schema" in media:
            return media["schema"]
    # statuses the spec lists without a body schema (or does not list, e.g. 406/429):
    # Allegro answers with AuthError for 401 and ErrorsHolder otherwise.
    if status == 401:
        return {"$ref": "#/components/schemas/AuthError"}
    return {"$ref": "#/components/schemas/ErrorsHolder"}


def validate_body(method: str, path: str, status: int, body: Any) -> None:
    template = template_for(path)
    assert template is not None, f"{path} is not in the spec"
    if body in KNOWN_DEVIATIONS.get((template, status), []):
        return
    if template == "/order/checkout-forms" and status == 200 and body.get("count") == 0:
        body = {k: (v or 1) if k in ("count", "totalCount") else v for k, v in body.items()}
    schema = dict(response_schema(method, template, status))
    schema["components"] = spec()["components"]
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(body)


def check(resp: requests.Response) -> requests.Response:
    """Validate an API response body (if any) against the spec; returns the response."""
    assert resp.headers.get("trace-id"), "every response carries a trace-id"
    if resp.status_code == 204:
        assert resp.content == b""
        return resp
    path = resp.request.path_url.split("?")[0]
    if resp.content == b"" and resp.status_code == 404:
        # a bodiless 404 where the spec lists none (WzA's unknown commands)
        template = template_for(path)
        assert template is not None, f"{path} is not in the spec"
        op = spec()["paths"][template][resp.request.method.lower()]
        assert "content" not in op["responses"]["404"]
        return resp
    if resp.headers.get("Content-Type") == "application/octet-stream":
        # a file (label, protocol): the spec's answer for that status must be a binary one
        template = template_for(path)
        assert template is not None, f"{path} is not in the spec"
        op = spec()["paths"][template][resp.request.method.lower()]
        assert "application/octet-stream" in op["responses"][str(resp.status_code)]["content"]
        return resp
    validate_body(resp.request.method, path, resp.status_code, resp.json())
    return resp


class Api:
    """Allegro REST client for tests: right headers by default, every answer validated."""

    def __init__(self, base_url: str, token: str | None = None) -> None:
        self.base_url = base_url
        self.token = token
        self.session = requests.Session()

    def request(
        self, method: str, path: str, *, headers: dict[str, str] | None = None, **kw: Any
    ) -> requests.Response:
        h = {"Accept": PUBLIC_V1}
        if self.token:
            h["Authorization"] = f"Bearer {self.token}"
        if "json" in kw:
            h["Content-Type"] = PUBLIC_V1
            kw["data"] = json.dumps(kw.pop("json"))
        h.update(headers or {})
        h = {k: v for k, v in h.items() if v is not None}
        kw.setdefault("timeout", 30)
        return check(self.session.request(method, self.base_url + path, headers=h, **kw))

    def get(self, path: str, **kw: Any) -> requests.Response:
        return self.request("GET", path, **kw)

    def put(self, path: str, **kw: Any) -> requests.Response:
        return self.request("PUT", path, **kw)

    def post(self, path: str, **kw: Any) -> requests.Response:
        return self.request("POST", path, **kw)


def jwt_claims(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    def part(s: str) -> dict[str, Any]:
        return json.loads(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)))

    header, payload, _ = token.split(".")
    return part(header), part(payload)


def one_error(resp: requests.Response) -> dict[str, Any]:
    body = resp.json()
    assert len(body["errors"]) == 1
    return body["errors"][0]


@dataclass
class Connected:
    """A seller connected through a client app (the ``connected`` fixture)."""

    sandbox: SandboxControl
    api: Api
    tokens: dict[str, Any]
    login: str = "anna"
    seller_id: str = "50000001"
    client_id: str = "app-1"
    secret: str = "secret-1"

    def api_for(self, token: str | None) -> Api:
        return Api(self.sandbox.base_url, token)
