"""schemathesis over the whole committed schema against a live server with data: no server
error, and every answer (status, content type, headers, body) as the schema says.

Bounded (a few examples per operation) so that it runs in well under two minutes."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import transaction
from django_scopes import scope

from fulfillment.models import Shipment
from notifications.outbox import queue_mail
from orders import changes
from tests.api.helpers import imported_order, key_of
from tests.support.fulfillment import label_job_of
from tests.support.orders import status_of

SCHEMA = Path(__file__).resolve().parents[2] / "docs" / "api" / "openapi.yaml"
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
    ]
)
MAX_EXAMPLES = 15  # per operation and phase: about 1 100 requests, ~80 s
WHEN = dt.datetime(2026, 11, 2, 9, 0, tzinfo=dt.UTC)


@pytest.mark.django_db(transaction=True)
def test_every_operation_answers_as_the_schema_says(live_server, tenant, other_tenant, tmp_path):
    orders = [imported_order(tenant, bought_at=WHEN + dt.timedelta(hours=n)) for n in range(5)]
    imported_order(other_tenant, bought_at=WHEN, alias="BE")
    label_job_of(tenant)
    with scope(tenant=tenant):
        changes.change_order_status(orders[0], status_of(tenant, "in_progress"), None)
        for n, order in enumerate(orders[:3]):
            Shipment.objects.create(
                tenant=tenant,
                order=order,
                channel_id=order.channel_id,
                carrier_id="DPD",
                waybill=f"W{n}",
            )
        with transaction.atomic():
            queue_mail(
                tenant=tenant,
                to="a@example.com",
                subject="Zamówienie",
                text="x",
                kind="test",
                order=orders[0],
            )
    secret = key_of(tenant, rate_limit=1_000_000)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "run",
        str(SCHEMA),
        "--url",
        live_server.url,
        "--header",
        f"Authorization: Bearer {secret}",
        "--checks",
        CHECKS,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        "1",
        "--workers",
        "1",
        "--no-color",
        "--suppress-health-check",
        "all",
        "--warnings",
        "off",
        "--request-timeout",
        "20",
        "--generation-database",
        "none",
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": ""}
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=170, env=env, cwd=tmp_path
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout or " passed" in run.stdout, run.stdout[-3000:]
