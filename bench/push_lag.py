"""Benchmark: push lag — from a status change's commit to Allegro (the sandbox) having the new
fulfillment status — at a steady rate of status changes, with real Celery workers.

Runs allegro_sandbox, two Celery workers (2 processes each) and beat against its own database,
imports --orders orders, then changes statuses at --rate changes/s for --seconds (each change
picks an order not changed in the last few seconds and a status whose mapped Allegro status
differs from the order's current one, so every change needs exactly one PUT). Lag of a change =
the sandbox's time of the matching fulfillment change minus the wall time the change committed.

Baseline in the same run: the same load with on-commit dispatch switched off, so pushes are
delivered only by the beat sweeper (every --baseline-sweep seconds) — how a polling integration
behaves (Apilo promises 5–25 minutes, BaseLinker pushes tracking statuses four times a day).

Prints JSON: lag p50/p95/max (s), Allegro requests per status change, changes delivered, and
the Celery tasks still queued when the load ended (the workers running behind).

    .venv/bin/python bench/push_lag.py                 # 100 changes/s for 2 minutes
    .venv/bin/python bench/push_lag.py --seconds 20    # a shorter run
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=100.0, help="status changes per second")
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--baseline-seconds", type=float, default=30.0)
    parser.add_argument("--baseline-sweep", type=float, default=10.0)
    parser.add_argument("--orders", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument(
        "--batch",
        type=int,
        default=1,
        help="changes per transaction: 1 = change_order_status one order at a time (staff "
        "changing orders one by one); n > 1 = bulk_change_status of n orders to one status "
        "(the bulk action), the same rate of changes in fewer, larger commits",
    )
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2 pool each)")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_push"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    return parser.parse_args()


def percentile(values: list[float], p: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return round(ordered[index], 3)


def main() -> None:
    args = parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "apilo.settings_test"
    os.environ["DATABASE_URL"] = args.database_url
    os.environ["REDIS_URL"] = args.redis_url
    os.environ["CELERY_BROKER_URL"] = args.redis_url
    os.environ["LOG_LEVEL"] = "WARNING"
    _common.recreate_database(args.database_url)

    from tests.sandbox_support import SandboxControl, _start_server

    sandbox_proc, base_url = _start_server()
    sandbox = SandboxControl(base_url)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from django_scopes import scope, scopes_disabled

    from apilo.celery import app
    from fulfillment.models import FulfillmentPush, PushState
    from fulfillment.services import mappings
    from orders.changes import bulk_change_status, change_order_status
    from orders.models import Order, OrderStatus
    from tests.celery_support import CeleryProcess

    env, channel, user, orders = _common.push_setup(sandbox, args.orders)
    tenant = channel.tenant
    os.environ.update(env.worker_env(FULFILLMENT_SWEEP_SECONDS=str(args.baseline_sweep)))
    with scope(tenant=tenant):
        statuses = list(OrderStatus.objects.filter(tenant=tenant, is_active=True))
        target = mappings.mapping_of(channel, statuses)
    mapped = [s for s in statuses if target[s.pk]]

    app.control.purge()
    processes = [CeleryProcess("worker").start() for _ in range(args.workers)]
    for process in processes:
        process.wait_for_log("ready.", timeout=60)
    beat = CeleryProcess("beat", {"BEAT_HEARTBEAT_SECONDS": "30"}).start()

    def queued() -> int:
        with app.connection_for_read() as connection:
            return connection.default_channel.queue_declare(
                queue="push", durable=True, auto_delete=False
            ).message_count

    redispatch_after = settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS  # the configured one

    def run(seconds: float, dispatch: bool) -> dict:
        settings.FULFILLMENT_DISPATCH_ON_COMMIT = dispatch
        settings.FULFILLMENT_REDISPATCH_AFTER_SECONDS = redispatch_after if dispatch else 0
        before = sandbox.stats()["by_client"].get(env.client_id, 0)
        changes: list[tuple[str, str, float]] = []  # (external id, target, committed at)
        lock = threading.Lock()
        per_thread = args.rate / args.threads
        total = int(seconds * args.rate)
        shards = [orders[i :: args.threads] for i in range(args.threads)]
        with scopes_disabled():  # each order's status now (an earlier run changed them)
            status_now = dict(Order.objects.filter(tenant=tenant).values_list("pk", "status_id"))

        def load(shard: list[Order], seed: int) -> None:
            rng = random.Random(seed)
            current = {
                o.pk: (status_now[o.pk], target.get(status_now[o.pk]) or "NEW") for o in shard
            }
            queue = list(shard)
            rng.shuffle(queue)
            start = time.monotonic()
            batch = max(1, args.batch)
            count = int(total / args.threads / batch)
            position = 0
            with scope(tenant=tenant):
                for i in range(count):
                    if batch == 1:
                        order = queue[position % len(queue)]
                        position += 1
                        _status_id, allegro = current[order.pk]
                        choice = rng.choice([s for s in mapped if target[s.pk] != allegro])
                        change_order_status(order, choice, user)
                        picked = [order]
                    else:
                        # One status for the batch; the next orders (in the rotating queue)
                        # whose Allegro status differs from its mapping: each needs one PUT.
                        picked = []
                        while len(picked) < batch:
                            choice = rng.choice(mapped)
                            picked = []
                            for _step in range(len(queue)):
                                order = queue[position % len(queue)]
                                position += 1
                                if current[order.pk][1] != target[choice.pk]:
                                    picked.append(order)
                                    if len(picked) == batch:
                                        break
                        result = bulk_change_status(tenant, [o.pk for o in picked], choice, user)
                        assert len(result.changed) == batch, result
                    committed = time.time()
                    for order in picked:
                        current[order.pk] = (choice.pk, target[choice.pk])
                    with lock:
                        changes.extend(
                            (order.external_id, target[choice.pk], committed) for order in picked
                        )
                    pause = start + (i + 1) * batch / per_thread - time.monotonic()
                    if pause > 0:
                        time.sleep(pause)
            from django.db import connection

            connection.close()

        started = time.monotonic()
        threads = [threading.Thread(target=load, args=(shard, n)) for n, shard in enumerate(shards)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        achieved = len(changes) / (time.monotonic() - started)
        queued_at_end = queued()
        deadline = time.monotonic() + max(60.0, args.baseline_sweep * 6)
        while time.monotonic() < deadline:
            with scopes_disabled():
                if not FulfillmentPush.objects.filter(state=PushState.PENDING).exists():
                    break
            time.sleep(0.5)
        requests = sandbox.stats()["by_client"].get(env.client_id, 0) - before
        histories: dict[str, list[tuple[str, float]]] = {}
        for external_id in {c[0] for c in changes}:
            history = sandbox.fulfillment_of(external_id)["history"]
            histories[external_id] = [
                (h["status"], datetime.fromisoformat(h["at"].replace("Z", "+00:00")).timestamp())
                for h in history
            ]
        lags = []
        for external_id, wanted, committed in changes:
            match = next(
                (
                    at
                    for status, at in histories[external_id]
                    if status == wanted and at >= committed - 0.002
                ),
                None,
            )
            if match is not None:
                lags.append(max(0.0, match - committed))
        with scopes_disabled():
            counts = {
                state: FulfillmentPush.objects.filter(state=state).count()
                for state in PushState.values
            }
            FulfillmentPush.objects.all().delete()
        # Tasks of changes that another task already sent (taken along as overdue) may still be
        # queued; they would do the next run's work.
        queued_after_drain = queued()
        app.control.purge()
        return {
            "changes": len(changes),
            "changes_per_second": round(achieved, 1),
            "delivered": len(lags),
            "lag_p50_s": percentile(lags, 50),
            "lag_p95_s": percentile(lags, 95),
            "lag_max_s": percentile(lags, 100),
            "allegro_requests_per_change": round(requests / len(changes), 3) if changes else None,
            "pushes": counts,
            "tasks_queued_when_load_ended": queued_at_end,
            "tasks_queued_when_all_sent": queued_after_drain,
        }

    try:
        ours = run(args.seconds, dispatch=True)
        baseline = run(args.baseline_seconds, dispatch=False)
    finally:
        beat.stop()
        for process in processes:
            process.stop()
        sandbox_proc.kill()
    print(
        json.dumps(
            {
                "benchmark": "push_lag",
                "rate_target": args.rate,
                "seconds": args.seconds,
                "orders": args.orders,
                "workers": f"{args.workers}x2",
                "changes_per_transaction": args.batch,
                "outbox_on_commit_dispatch": ours,
                "baseline_sweeper_only": {"sweep_seconds": args.baseline_sweep, **baseline},
                "target_p95_s": 5.0,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
