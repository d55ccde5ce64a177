"""Only channels/clients/ speaks Allegro's URL paths: the rest of the code calls the client's
typed endpoints, which build the path and check the answer's shape in one place. The source is
read with ``ast``, so a path in a comment or in the middle of a docstring does not count; the
simulator (its own program), the tests and the simulator's own benchmark are left out."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CLIENTS = REPO / "channels" / "clients"
LEFT_OUT = {"allegro_sandbox", "tests", ".venv", "node_modules"}
# Measures the simulator itself, as a bare HTTP client of it.
SIMULATOR_BENCH = REPO / "bench" / "sandbox_throughput.py"
# The first segment of every path of Allegro's REST API (openapi-full, 2026-07).
ALLEGRO_ROOTS = (
    "/account",
    "/affiliate",
    "/after-sales-service-conditions",
    "/billing",
    "/bidding",
    "/charity",
    "/deposit",
    "/fulfillment",
    "/marketplaces",
    "/me",
    "/messaging",
    "/offers",
    "/order",
    "/payments",
    "/points-of-service",
    "/pricing",
    "/sale",
    "/shipment-management",
    "/users",
)


def is_allegro_path(text: str) -> bool:
    return any(text == root or text.startswith((f"{root}/", f"{root}?")) for root in ALLEGRO_ROOTS)


def allegro_paths(path: Path) -> list[str]:
    """ "file:line 'literal'" of every string constant of the file that starts like an Allegro
    path (an f-string's literal parts included)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        f"{path.relative_to(REPO)}:{node.lineno} {node.value!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and is_allegro_path(node.value)
    ]


def app_sources() -> list[Path]:
    return sorted(
        path
        for path in REPO.rglob("*.py")
        if not LEFT_OUT & set(path.relative_to(REPO).parts)
        and CLIENTS not in path.parents
        and path != SIMULATOR_BENCH
    )


def test_no_allegro_path_outside_the_client():
    found = [hit for path in app_sources() for hit in allegro_paths(path)]
    assert found == []


def test_the_scan_sees_the_paths_the_client_builds():
    # The check above is only worth something if it finds paths where they are.
    found = allegro_paths(CLIENTS / "allegro.py")
    assert [hit.split(" ", 1)[1] for hit in found if "/order/events" in hit] == ["'/order/events'"]
    assert any("'/order/checkout-forms/'" in hit for hit in found)  # an f-string's part
    assert any(hit.endswith("'/me'") for hit in found)


def test_what_counts_as_an_allegro_path():
    assert [
        text
        for text in (
            "/order/carriers",
            "/me",
            "/me?x=1",
            "/sale/offers",
            "/media/logo.png",
            "/messages/",
            "/orders/",
            "GET /order/carriers",
            "/app/alfa/orders/",
        )
        if is_allegro_path(text)
    ] == ["/order/carriers", "/me", "/me?x=1", "/sale/offers"]
