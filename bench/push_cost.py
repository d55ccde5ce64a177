"""Benchmark: what sending one status push costs the worker — CPU ms, wall ms, SQL statements
and Allegro requests per push — by how the pushes reach the sender.

Measured in this process against allegro_sandbox over HTTP, calling the task bodies as a worker
would (no broker): every order of --orders gets one status change (on-commit dispatch off),
then the pushes are sent

* ``one_order_per_task`` (the baseline): push_order for each order, taking nothing along — the
  shape of every task when changes come one at a time and the workers keep up;
* ``batches_of_10``: push_orders for 10 orders at a time (a bulk change's dispatch);
* ``overdue_taken_along``: push_order for each order while all of them are overdue (the
  workers are behind): the first task takes FULFILLMENT_TAKE_WAITING orders along, the queued
  tasks of those orders then find nothing to do. Their cost is included.

    .venv/bin/python bench/push_cost.py [--orders 500]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_push_cost"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url, FULFILLMENT_DISPATCH_ON_COMMIT="0")
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    try:
        sandbox = _common.sandbox_control(base_url)
        app, channel, _user, orders = _common.push_setup(sandbox, args.orders)
        ids = [order.pk for order in orders]
        print(json.dumps(measure(channel, ids, sandbox, app.client_id), indent=2))
    finally:
        proc.kill()


def measure(channel, order_ids: list[int], sandbox, client_id: str) -> dict:
    from django.conf import settings
    from django_scopes import scope, scopes_disabled

    from fulfillment.models import FulfillmentPush, PushState
    from fulfillment.services.mappings import default_for
    from fulfillment.tasks import push_order, push_orders
    from orders.changes import bulk_change_status
    from orders.models import OrderStatus, SystemStatus

    tenant = channel.tenant
    with scope(tenant=tenant):
        statuses = [
            OrderStatus.objects.get(tenant=tenant, system_code=code)
            for code in (SystemStatus.IN_PROGRESS, SystemStatus.READY_TO_SHIP)
        ]

    def run(name: str, status, send) -> dict:
        with scope(tenant=tenant):
            for start in range(0, len(order_ids), 100):
                bulk_change_status(tenant, order_ids[start : start + 100], status, None)
        before = sandbox.stats()["by_client"].get(client_id, 0)
        with _common.Stopwatch() as watch, _common.QueryCounter() as counter:
            send()
        requests = sandbox.stats()["by_client"].get(client_id, 0) - before
        with scopes_disabled():
            sent = FulfillmentPush.objects.filter(
                state=PushState.SENT, target_status=default_for(status)
            ).count()
            pending = FulfillmentPush.objects.filter(state=PushState.PENDING).count()
            FulfillmentPush.objects.all().delete()
        n = len(order_ids)
        return {
            "mode": name,
            "pushes": n,
            "sent": sent,
            "pending_after": pending,
            "cpu_ms_per_push": round(watch.cpu * 1000 / n, 2),
            "wall_ms_per_push": round(watch.wall * 1000 / n, 2),
            "sql_per_push": round(counter.count / n, 2),
            "allegro_requests_per_push": round(requests / n, 3),
        }

    def one_by_one() -> None:
        for order_id in order_ids:
            push_order(tenant.pk, order_id)

    def in_tens() -> None:
        for start in range(0, len(order_ids), 10):
            push_orders(tenant.pk, order_ids[start : start + 10])

    results = []
    take_waiting = settings.FULFILLMENT_TAKE_WAITING
    settings.FULFILLMENT_TAKE_WAITING = 0
    results.append(run("one_order_per_task", statuses[0], one_by_one))
    results.append(run("batches_of_10", statuses[1], in_tens))
    settings.FULFILLMENT_TAKE_WAITING = take_waiting  # the default
    settings.FULFILLMENT_TAKE_WAITING_AFTER_SECONDS = 0  # every push is overdue
    results.append(run("overdue_taken_along", statuses[0], one_by_one))
    baseline = results[0]
    for result in results[1:]:
        result["cpu_vs_baseline"] = round(
            result["cpu_ms_per_push"] / baseline["cpu_ms_per_push"], 2
        )
        result["sql_vs_baseline"] = round(result["sql_per_push"] / baseline["sql_per_push"], 2)
    return {
        "benchmark": "push_cost",
        "orders": len(order_ids),
        "take_waiting": settings.FULFILLMENT_TAKE_WAITING,
        "results": results,
    }


if __name__ == "__main__":
    main()
