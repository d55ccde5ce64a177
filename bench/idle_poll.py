"""Benchmark: the cost of an idle poll (nothing new in the journal) and how many idle accounts one
worker process keeps at 60 s intervals.

An idle poll is the common case: most accounts have no new event most of the time. Measured in
this process against allegro_sandbox over HTTP: Allegro requests, SQL queries, CPU ms and wall
ms per poll (sync.poll.poll_channel: lock, state, one GET /order/events, the
bookkeeping). Baseline in the same run: the bare GET /order/events through the same client with
no database work at all, i.e. the floor any poll pays.

    .venv/bin/python bench/idle_poll.py [--polls 300]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--polls", type=int, default=300)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_sync"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url)
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    try:
        control = _common.sandbox_control(base_url)
        secret = _common.prepare_sandbox(control)
        control.create_orders(_common.SELLER, 50)  # a journal with history
        channel = _common.connected_channel(control, secret)
        from django.conf import settings
        from django_scopes import scope

        from channels.services.tokens import client_for, get_access_token
        from sync.poll import poll_channel

        with scope(tenant=channel.tenant):
            first = poll_channel(channel.pk)  # bootstrap at the newest event
            assert first.status == "done", first
            walls, cpus, queries, requests = [], [], [], []
            for _ in range(args.polls):
                with _common.Stopwatch() as watch, _common.QueryCounter() as counter:
                    result = poll_channel(channel.pk)
                assert result.status == "done" and result.events == 0, result
                walls.append(watch.wall * 1000)
                cpus.append(watch.cpu * 1000)
                queries.append(counter.count)
                requests.append(result.requests)

            client = client_for(channel)
            token = get_access_token(channel.pk)
            cursor = control.journal(_common.SELLER)["events"][-1]["id"]
            bare_walls, bare_cpus = [], []
            for _ in range(args.polls):
                with _common.Stopwatch() as watch:
                    client.list_order_events(
                        after=cursor,
                        limit=settings.SYNC_EVENTS_PAGE_SIZE,
                        access_token=token.value,
                    )
                bare_walls.append(watch.wall * 1000)
                bare_cpus.append(watch.cpu * 1000)
    finally:
        proc.terminate()

    wall_p50 = statistics.median(walls)
    cpu_p50 = statistics.median(cpus)
    per_minute_budget = settings.ALLEGRO_RATE_LIMIT_PER_MINUTE
    result = {
        "benchmark": "idle_poll",
        "polls": args.polls,
        "idle_poll": {
            "allegro_requests": statistics.median(requests),
            "sql_queries": statistics.median(queries),
            "cpu_ms_p50": round(cpu_p50, 2),
            "wall_ms_p50": round(wall_p50, 2),
            "wall_ms_p95": round(_common.percentile(walls, 0.95), 2),
        },
        "baseline_bare_get_events": {
            "allegro_requests": 1,
            "sql_queries": 0,
            "cpu_ms_p50": round(statistics.median(bare_cpus), 2),
            "wall_ms_p50": round(statistics.median(bare_walls), 2),
        },
        "idle_accounts_per_worker_process_at_60s": {
            "by_wall_time": int(60_000 / wall_p50),
            "by_cpu_time": int(60_000 / cpu_p50),
        },
        "idle_accounts_per_client_id_at_60s_by_allegro_budget": int(
            per_minute_budget / statistics.median(requests)
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
