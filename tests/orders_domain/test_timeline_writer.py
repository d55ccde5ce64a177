"""The order timeline has one writer and one describer: orders/events.py."""

from __future__ import annotations

import re
from pathlib import Path

from django.utils import translation

from orders.models import OrderEvent

ROOT = Path(__file__).resolve().parents[2]
THE_WRITER = ROOT / "orders" / "events.py"
# Building a row (not the class statement) or writing one through the manager.
BUILDS_A_ROW = re.compile(
    r"(?<!class )\bOrderEvent\(|\bOrderEvent\.objects\.(?:bulk_create|create|get_or_create|"
    r"update_or_create)\b"
)
# Product code only: tests build unsaved entries to read their sentences.
SKIPPED_DIRS = {".venv", "tests", "migrations", "node_modules", "__pycache__", ".git"}


def _product_sources() -> list[Path]:
    return sorted(
        path
        for path in ROOT.rglob("*.py")
        if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts)
    )


def test_only_orders_events_builds_timeline_rows():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}: {line.strip()}"
        for path in _product_sources()
        if path != THE_WRITER
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BUILDS_A_ROW.search(line)
    ]
    assert offenders == []


def test_the_scan_sees_the_writer_itself():
    # Guards the scan: if it looked at no file, the test above would pass for nothing.
    assert THE_WRITER in _product_sources()
    assert BUILDS_A_ROW.search(THE_WRITER.read_text(encoding="utf-8"))


def test_fulfillment_entries_are_described_through_the_registry():
    # The order page asks every entry for its sentence; fulfillment's wording comes from the
    # describer the fulfillment app registered at start-up.
    push = OrderEvent(
        kind="fulfillment_push", data={"kind": "status", "outcome": "sent", "target": "SENT"}
    )
    shipment = OrderEvent(
        kind="shipment_added", data={"carrier": "DPD", "waybill": "X1", "to_allegro": False}
    )
    with translation.override("en"):
        assert push.describe() == "Passed on to Allegro: fulfillment status “Sent”."
        assert shipment.describe() == "Shipment added: DPD, tracking number X1."
