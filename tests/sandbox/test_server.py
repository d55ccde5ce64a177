"""CLI, demo defaults, persistence, buyer generator and the seller pages."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.sandbox.helpers import Connected
from tests.sandbox_support import REPO_ROOT, SandboxControl

DEMO_REDIRECT = "http://127.0.0.1:8000/channels/allegro/callback/"


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "allegro_sandbox", "serve", "--port", "0", *args],
        cwd=str(REPO_ROOT),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    line = proc.stdout.readline()
    m = re.search(r"SANDBOX_LISTENING (\S+)", line)
    assert m, line
    return proc, m.group(1)


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture
def state_file(tmp_path: Path) -> Iterator[str]:
    yield str(tmp_path / "sandbox.sqlite3")


def test_demo_defaults_and_persistence(state_file: str) -> None:
    proc, base = start("--state", state_file, "--redirect-uri", "http://localhost:9000/cb")
    try:
        sb = SandboxControl(base)
        (seller,) = sb.sellers()
        assert seller["login"] == "demo-seller"
        client = sb.call("GET", "/clients/apilo-local")
        assert client["client_secret"] == "apilo-local-secret"
        assert client["redirect_uris"] == [DEMO_REDIRECT, "http://localhost:9000/cb"]
        location = sb.authorize("apilo-local", DEMO_REDIRECT, "demo-seller", "demo-password")
        tokens = sb.exchange_code(
            "apilo-local", "apilo-local-secret", sb.code_from(location), DEMO_REDIRECT
        )
        ids = sb.create_orders("demo-seller", 5)
    finally:
        stop(proc)
    proc, base = start("--state", state_file)
    try:
        sb = SandboxControl(base)
        assert [s["login"] for s in sb.sellers()] == ["demo-seller"]
        r = requests.get(
            f"{base}/order/checkout-forms",
            timeout=5,
            headers={
                "Accept": "application/vnd.allegro.public.v1+json",
                "Authorization": f"Bearer {tokens['access_token']}",
            },
        )
        assert r.status_code == 200
        assert sorted(f["id"] for f in r.json()["checkoutForms"]) == sorted(ids)
        assert len(sb.journal("demo-seller")["events"]) == 15
    finally:
        stop(proc)


def test_buyers_generate_orders(connected: Connected) -> None:
    sb = connected.sandbox
    sb.set_buyers(6000, sellers=["anna"])
    deadline = time.monotonic() + 10
    orders: list[dict] = []
    while time.monotonic() < deadline and len(orders) < 3:
        time.sleep(0.2)
        orders = sb.seller_orders("anna")
    sb.set_buyers(0)
    assert len(orders) >= 3
    assert {o["status"] for o in orders} <= {
        "BOUGHT",
        "FILLED_IN",
        "READY_FOR_PROCESSING",
        "CANCELLED",
    }
    assert sb.order(orders[0]["id"])["plan"]  # lifecycle steps are scheduled


def test_pages(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    (oid,) = sb.create_orders("anna", 1)
    api.post(
        f"/order/checkout-forms/{oid}/shipments", json={"carrierId": "DPD", "waybill": "WB-PAGE-1"}
    )
    index = requests.get(sb.base_url + "/", timeout=5)
    assert index.status_code == 200
    assert "/__sandbox__/seller/anna" in index.text and "app-1" in index.text
    s = requests.Session()
    r = s.post(sb.base_url + "/login", data={"login": "anna", "password": "bad"}, timeout=5)
    assert r.status_code == 401
    r = s.post(sb.base_url + "/login", data={"login": "anna", "password": "pass-anna"}, timeout=5)
    assert r.status_code == 200 and r.url.endswith("/__sandbox__/seller/anna")
    assert oid in r.text and "WB-PAGE-1" in r.text and "READY_FOR_PROCESSING" in r.text
    assert "BOUGHT" in r.text  # the journal
    assert requests.get(sb.base_url + "/__sandbox__/seller/nobody", timeout=5).status_code == 404
