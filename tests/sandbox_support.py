"""Pytest plugin: a real ``allegro_sandbox`` process and an HTTP client for its control API.

Load with ``pytest_plugins = ["tests.sandbox_support"]``. It imports nothing from
``allegro_sandbox``; everything goes over HTTP to a subprocess started once per session.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlparse

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
PUBLIC_V1 = "application/vnd.allegro.public.v1+json"


class SandboxError(AssertionError):
    """A control-API call failed (the sandbox answered with a 4xx/5xx)."""


class SandboxControl:
    """Thin HTTP client for the sandbox control API (``/__sandbox__/...``)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth_base_url = self.base_url
        self.api_base_url = self.base_url
        self.session = requests.Session()

    # -------------------------------------------------------------- plumbing
    def call(self, method: str, path: str, json: Any = None, **params: Any) -> Any:
        r = self.session.request(
            method,
            f"{self.base_url}/__sandbox__{path}",
            json=json,
            params={k: v for k, v in params.items() if v is not None},
            timeout=60,
        )
        if r.status_code >= 400:
            raise SandboxError(f"{method} {path} -> {r.status_code}: {r.text}")
        ctype = r.headers.get("Content-Type", "")
        return r.json() if ctype.startswith("application/json") else r.text

    def health(self) -> dict[str, Any]:
        return self.call("GET", "/health")

    def reset(self, demo: bool = False, seed: int | None = None) -> None:
        body: dict[str, Any] = {"demo": demo}
        if seed is not None:
            body["seed"] = seed
        self.call("POST", "/reset", body)

    # -------------------------------------------------------------- accounts
    def create_seller(self, login: str, password: str, **kw: Any) -> dict[str, Any]:
        """kw: id, first_name, last_name, email, company_name, company_tax_id, offers (count),
        auto_sent_after_waybill, features."""
        return self.call("POST", "/sellers", {"login": login, "password": password, **kw})

    def update_seller(self, login: str, **kw: Any) -> dict[str, Any]:
        """Changing ``password`` revokes the seller's tokens, as on Allegro."""
        return self.call("PATCH", f"/sellers/{login}", kw)

    def sellers(self) -> list[dict[str, Any]]:
        return self.call("GET", "/sellers")["sellers"]

    def revoke_tokens(self, seller: str) -> int:
        return self.call("POST", f"/sellers/{seller}/revoke-tokens")["revoked"]

    def create_client_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str], **kw: Any
    ) -> dict[str, Any]:
        """kw: name, scopes, grant_types, access_token_ttl (default 43199),
        refresh_token_ttl, refresh_grace_seconds (default 60), revoke_access_on_refresh."""
        return self.call(
            "POST",
            "/clients",
            {
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": redirect_uris,
                **kw,
            },
        )

    def update_client_app(self, client_id: str, **kw: Any) -> dict[str, Any]:
        return self.call("PATCH", f"/clients/{client_id}", kw)

    def token_calls(self, client_id: str) -> dict[str, dict[str, int]]:
        """{"calls": {grant_type: n}, "ok": {grant_type: n}} for token-endpoint calls."""
        return self.call("GET", "/token-calls", client_id=client_id)

    # -------------------------------------------------------------- OAuth helpers
    def issue_code(self, client_id: str, login: str, redirect_uri: str, **kw: Any) -> str:
        """A fresh authorization code as if the seller logged in and confirmed."""
        return self.call(
            "POST",
            "/oauth/code",
            {"client_id": client_id, "login": login, "redirect_uri": redirect_uri, **kw},
        )["code"]

    def exchange_code(
        self, client_id: str, client_secret: str, code: str, redirect_uri: str
    ) -> dict[str, Any]:
        r = requests.post(
            f"{self.base_url}/auth/oauth/token",
            auth=(client_id, client_secret),
            data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri},
            timeout=30,
        )
        if r.status_code != 200:
            raise SandboxError(f"token exchange failed: {r.status_code} {r.text}")
        return r.json()

    def connect_seller(
        self, login: str, client_id: str, client_secret: str, redirect_uri: str, **kw: Any
    ) -> dict[str, Any]:
        """Code flow shortcut; returns the token response (access_token, refresh_token...)."""
        code = self.issue_code(client_id, login, redirect_uri, **kw)
        return self.exchange_code(client_id, client_secret, code, redirect_uri)

    def authorize(
        self,
        client_id: str,
        redirect_uri: str,
        login: str,
        password: str,
        *,
        state: str | None = None,
        scope: str | None = None,
        prompt: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
        extra: dict[str, str] | None = None,
    ) -> str:
        """Drive the HTML login (and confirm) pages; returns the final redirect URL."""
        params = {
            "response_type": "code",
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            **(extra or {}),
        }
        for k, v in (
            ("state", state),
            ("scope", scope),
            ("prompt", prompt),
            ("code_challenge", code_challenge),
            ("code_challenge_method", code_challenge_method),
        ):
            if v is not None:
                params[k] = v
        browser = requests.Session()
        r = browser.get(
            f"{self.base_url}/auth/oauth/authorize",
            params=params,
            allow_redirects=False,
            timeout=30,
        )
        if r.status_code != 200:
            raise SandboxError(f"authorize page: {r.status_code} {r.text[:300]}")
        ticket = re.search(r'name=ticket value="([^"]+)"', r.text).group(1)
        r = browser.post(
            f"{self.base_url}/auth/oauth/authorize",
            data={"ticket": ticket, "login": login, "password": password, "action": "login"},
            allow_redirects=False,
            timeout=30,
        )
        if r.status_code == 200 and "action value=confirm" in r.text:
            r = browser.post(
                f"{self.base_url}/auth/oauth/authorize",
                data={"ticket": ticket, "action": "confirm"},
                allow_redirects=False,
                timeout=30,
            )
        if r.status_code != 302:
            raise SandboxError(f"login failed: {r.status_code} {r.text[:300]}")
        return urljoin(self.base_url, r.headers["Location"])

    @staticmethod
    def code_from(url: str) -> str:
        return parse_qs(urlparse(url).query)["code"][0]

    # -------------------------------------------------------------- orders
    def create_orders(
        self, seller: str, count: int = 1, status: str = "READY_FOR_PROCESSING", **kw: Any
    ) -> list[str]:
        """kw: seed, marketplace ("allegro-pl"/"allegro-cz"), payment_type ("ONLINE" /
        "CASH_ON_DELIVERY"), invoice (bool), lines (int), delivery ("locker"/"courier"),
        bought_at (ISO or epoch), spread_seconds, auto_lifecycle (bool)."""
        out = self.call(
            "POST", f"/sellers/{seller}/orders", {"count": count, "status": status, **kw}
        )
        return out.get("ids", [])

    def advance_order(self, order_id: str, action: str) -> dict[str, Any]:
        """action: FILLED_IN | READY_FOR_PROCESSING | BUYER_CANCELLED | AUTO_CANCELLED |
        MODIFY (buyer changes address: new revision) | SURCHARGE | RETURNED."""
        return self.call("POST", f"/orders/{order_id}/advance", {"action": action})

    def merge_orders(self, order_ids: list[str]) -> str:
        """Merge purchases: returns the new checkout-form id; old ids answer 404."""
        return self.call("POST", "/orders/merge", {"ids": order_ids})["id"]

    def order(self, order_id: str) -> dict[str, Any]:
        return self.call("GET", f"/orders/{order_id}")

    def seller_orders(self, seller: str, include_deleted: bool = False) -> list[dict[str, Any]]:
        return self.call(
            "GET", f"/sellers/{seller}/orders", include_deleted="1" if include_deleted else None
        )["orders"]

    def fulfillment_of(self, order_id: str) -> dict[str, Any]:
        """{"status", "changes", "lineItemsSent", "history"} — the seller side."""
        return self.call("GET", f"/orders/{order_id}/fulfillment")

    def shipments_of(self, order_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/orders/{order_id}/shipments")["shipments"]

    def journal(self, seller: str) -> dict[str, list[dict[str, Any]]]:
        """{"events": [...], "withheld": [...], "pending": [...]} for the seller."""
        return self.call("GET", f"/sellers/{seller}/journal")

    def release_events(self, seller: str) -> int:
        """Insert withheld (dropped) and delayed events now, with new ids."""
        return self.call("POST", f"/sellers/{seller}/release-events")["released"]

    # -------------------------------------------------------------- offers
    def offers_of(self, seller: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/sellers/{seller}/offers")["offers"]

    def create_offers(self, seller: str, count: int) -> list[str]:
        return self.call("POST", f"/sellers/{seller}/offers", {"count": count})["ids"]

    def change_offer(self, offer_id: str, **kw: Any) -> dict[str, Any]:
        """kw: price, stock, name, status, sku / ean ("" removes it; OFFER_CHANGED), archived
        (gone from the listing, OFFER_ARCHIVED), deleted (gone, no event) — each emits the
        matching offer event."""
        return self.call("POST", f"/offers/{offer_id}", kw)

    def expire_offer_events(self, seller: str) -> int:
        """Drop the seller's offer events, as 24 h without reading them would."""
        return self.call("POST", f"/sellers/{seller}/offer-events/expire")["dropped"]

    # -------------------------------------------------------------- faults, limits, time
    def set_faults(
        self, seller: str | None = None, client_id: str | None = None, **faults: Any
    ) -> dict[str, Any]:
        """faults: drop_events, duplicate_events, out_of_order (shares 0..1),
        delay_events_seconds, error_5xx (share), error_status, latency_ms, timeout (share),
        hang_seconds, reset (share), block_429_seconds (client only), path_prefix,
        include_auth, seed. No seller/client_id = global."""
        body = {**faults}
        if seller:
            body["seller"] = seller
        if client_id:
            body["client_id"] = client_id
        return self.call("PUT", "/faults", body)

    def clear_faults(self, seller: str | None = None, client_id: str | None = None) -> None:
        self.call("DELETE", "/faults", seller=seller, client_id=client_id)

    # -------------------------------------------------------------- Wysyłam z Allegro
    def set_delivery_method(self, order_id: str, name: str) -> dict[str, Any]:
        """Another delivery method for the order, by name (e.g. "Odbiór osobisty", which
        WzA does not serve)."""
        return self.call("PUT", f"/orders/{order_id}/delivery-method", {"name": name})

    def wza_shipments_of(self, order_id: str) -> list[dict[str, Any]]:
        """Every WzA shipment made for the order (cancelled ones carry canceledDate)."""
        return self.call("GET", f"/orders/{order_id}/wza-shipments")["shipments"]

    def wza(self, **settings: float) -> dict[str, Any]:
        """command_seconds, waybill_delay_seconds (sandbox clock); no arguments: read."""
        if settings:
            return self.call("PUT", "/wza", settings)
        return self.call("GET", "/wza")

    def faults(self) -> dict[str, Any]:
        return self.call("GET", "/faults")["faults"]

    def set_rate_limit(
        self,
        limit: int | None = None,
        client_id: str | None = None,
        block_seconds: float | None = None,
        window_seconds: float | None = None,
        unblock: bool = False,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"unblock": unblock}
        for k, v in (
            ("limit", limit),
            ("client_id", client_id),
            ("block_seconds", block_seconds),
            ("window_seconds", window_seconds),
        ):
            if v is not None:
                body[k] = v
        return self.call("PUT", "/rate-limit", body)

    def block_client(self, client_id: str, seconds: float = 60) -> None:
        self.set_faults(client_id=client_id, block_429_seconds=seconds)

    def advance_clock(self, seconds: float) -> dict[str, Any]:
        """Shift the sandbox clock forward (token expiry, code TTL, retention, lifecycle)."""
        return self.call("POST", "/clock/advance", {"seconds": seconds})

    def now(self) -> str:
        return self.call("GET", "/clock")["now"]

    def tick(self) -> int:
        return self.call("POST", "/tick")["lifecycle_steps"]

    def stats(self) -> dict[str, Any]:
        """Request counts: {"requests": {route: n, "total": n}, "by_client", "by_status",
        "token_calls"}."""
        return self.call("GET", "/stats")

    def set_buyers(self, orders_per_minute: float, sellers: list[str] | None = None) -> None:
        self.call(
            "PUT", "/buyers", {"orders_per_minute": orders_per_minute, "sellers": sellers or []}
        )


def _start_server() -> tuple[subprocess.Popen[str], str]:
    env = dict(
        os.environ,
        PYTHONPATH=str(REPO_ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        PYTHONUNBUFFERED="1",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "allegro_sandbox", "serve", "--port", "0", "--no-demo"],
        cwd=str(REPO_ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 30
    base_url = None
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        m = re.search(r"SANDBOX_LISTENING (\S+)", line)
        if m:
            base_url = m.group(1)
            break
    if base_url is None:
        proc.kill()
        raise RuntimeError("allegro_sandbox did not start")

    def drain() -> None:
        for line in proc.stdout:  # keep the pipe from filling up; show tracebacks
            sys.stderr.write("[allegro_sandbox] " + line)

    threading.Thread(target=drain, daemon=True).start()
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base_url}/__sandbox__/health", timeout=2).ok:
                return proc, base_url
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("allegro_sandbox does not answer")


@pytest.fixture(scope="session")
def allegro_sandbox_server() -> Iterator[str]:
    """Base URL of one sandbox subprocess for the whole session (killed at the end)."""
    proc, base_url = _start_server()
    try:
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def allegro_sandbox(allegro_sandbox_server: str) -> SandboxControl:
    """A freshly reset sandbox (no sellers, no clients, clock at real time)."""
    control = SandboxControl(allegro_sandbox_server)
    control.reset()
    return control
