"""Benchmark: webhook deliveries per second to a local receiver — N deliveries sent by real
Celery workers (the outbox: rows written with the change, sent by the task and the sweeper),
and the sender alone in one process with each worker process's keep-alive connection against
a new connection per delivery (the baseline, same run). Also what writing one event costs the
change's transaction.

Runs against its own database (apilo_bench_webhooks) and Redis database; the receiver (HTTP/1.1,
keep-alive, answers 200 at once) runs in this process.

    .venv/bin/python bench/webhooks.py [--deliveries 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common


class Counter:
    def __init__(self) -> None:
        self.count = 0
        self.event_ids: set[str] = set()
        self.lock = threading.Lock()


def receiver(counter: Counter) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with counter.lock:
                counter.count += 1
                counter.event_ids.add(self.headers.get("X-Apilo-Delivery", ""))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--deliveries", type=int, default=2000)
    parser.add_argument("--inline", type=int, default=None, help="default: --deliveries / 2")
    parser.add_argument("--cost-samples", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2 pool each)")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_webhooks"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url, WEBHOOK_SWEEP_SECONDS=1)
    _common.setup_django(args.database_url)
    counter = Counter()
    server = receiver(counter)
    try:
        print(json.dumps(run(args, counter, server.server_address[1]), indent=2))
    finally:
        server.shutdown()


def run(args: argparse.Namespace, counter: Counter, port: int) -> dict:
    from django.db import transaction
    from django.db.models import Count
    from django_scopes import scope, scopes_disabled

    from api.models_webhooks import DeliveryState, WebhookDelivery
    from api.webhooks import events, sender, subscriptions
    from apilo.celery import app
    from tests.celery_support import CeleryProcess
    from tests.factories import TenantFactory

    tenant = TenantFactory(name="Bench", slug="bench")
    with scope(tenant=tenant):
        subscription = subscriptions.create_subscription(
            tenant, url=f"http://127.0.0.1:{port}/in", events=["order.created"], created_by=None
        ).subscription
    to = {events.TEST_EVENT: [subscription]}
    data = {"order": {"id": 1, "number": "2612000001", "lines": [{"sku": "KUB-1", "quantity": 2}]}}

    def write(n: int) -> list[int]:
        ids: list[int] = []
        with scope(tenant=tenant):
            for start in range(0, n, 100):
                with transaction.atomic():
                    batch = [
                        events.Event(events.TEST_EVENT, data) for _ in range(min(100, n - start))
                    ]
                    events.write(tenant.pk, batch, to)
            ids = list(
                WebhookDelivery.objects.filter(state=DeliveryState.PENDING)
                .order_by("id")
                .values_list("id", flat=True)
            )
        return ids

    # 1. What one event adds to the change's transaction (the broker publish on commit included).
    app.control.purge()
    statements, wall = [], []
    with scope(tenant=tenant):
        for _ in range(args.cost_samples):
            with (
                _common.QueryCounter() as queries,
                _common.Stopwatch() as watch,
                transaction.atomic(),
            ):
                # As a hook does: look up the subscribers (one query), then write the rows.
                events.subscribers(tenant.pk, [events.TEST_EVENT])
                events.write(tenant.pk, [events.Event(events.TEST_EVENT, data)], to)
            statements.append(queries.count)
            wall.append(watch.wall * 1000)
    cost = {
        "sql_statements": sorted(set(statements)),
        "ms_p50": round(_common.percentile(wall, 0.5), 2),
        "ms_p95": round(_common.percentile(wall, 0.95), 2),
    }
    app.control.purge()
    with scopes_disabled():
        WebhookDelivery.objects.all().delete()

    # 2. The sender alone, one process: a keep-alive connection vs one per delivery.
    inline_n = args.inline or max(1, args.deliveries // 2)

    def drain(keep_alive: bool) -> dict:
        ids = write(inline_n)
        app.control.purge()
        connections = sender.Connections(keep_alive=keep_alive)
        before = counter.count
        started = time.monotonic()
        for delivery_id in ids:
            assert sender.send(delivery_id, connections).state == DeliveryState.DELIVERED
        seconds = time.monotonic() - started
        connections.close()
        with scopes_disabled():
            WebhookDelivery.objects.all().delete()
        return {
            "deliveries": len(ids),
            "received": counter.count - before,
            "seconds": round(seconds, 2),
            "deliveries_per_second": round(len(ids) / seconds, 1),
        }

    one_process = {"keep_alive": drain(True), "new_connection_per_delivery": drain(False)}

    # 3. The outbox drained by real workers (the task after commit; the sweeper every second).
    counter.count = 0
    counter.event_ids.clear()
    app.control.purge()
    workers = [CeleryProcess("worker").start() for _ in range(args.workers)]
    for worker in workers:
        worker.wait_for_log("ready.", timeout=90)
    beat = CeleryProcess("beat", {"BEAT_HEARTBEAT_SECONDS": "30"}).start()
    depth: list[tuple[float, int]] = []
    try:
        started = time.monotonic()
        write(args.deliveries)
        queued = time.monotonic() - started
        deadline = started + max(120.0, args.deliveries / 5)
        while time.monotonic() < deadline:
            with scopes_disabled():
                waiting = WebhookDelivery.objects.exclude(state=DeliveryState.DELIVERED).count()
            depth.append((round(time.monotonic() - started, 2), waiting))
            if waiting == 0:
                break
            time.sleep(0.5)
        seconds = time.monotonic() - started
        with scopes_disabled():
            states = dict(
                WebhookDelivery.objects.values("state")
                .annotate(n=Count("id"))
                .values_list("state", "n")
            )
            tries = sum(WebhookDelivery.objects.values_list("attempts", flat=True))
    finally:
        for process in (beat, *workers):
            process.stop()
    outbox = {
        "deliveries": args.deliveries,
        "workers": f"{args.workers}x2",
        "seconds_to_write": round(queued, 2),
        "seconds_until_all_delivered": round(seconds, 2),
        "deliveries_per_second": round(args.deliveries / seconds, 1),
        "states": states,
        "requests_received": counter.count,
        "distinct_event_ids_received": len(counter.event_ids),
        "tries": tries,
        "depth_over_time": depth[:: max(1, len(depth) // 30)] + depth[-1:],
    }
    keep = one_process["keep_alive"]["deliveries_per_second"]
    fresh = one_process["new_connection_per_delivery"]["deliveries_per_second"]
    return {
        "event_write_cost": cost,
        "one_process": one_process,
        "keep_alive_vs_new_connection": round(keep / fresh, 2),
        "outbox_with_workers": outbox,
    }


if __name__ == "__main__":
    main()
