"""Benchmark: pull lag — from READY_FOR_PROCESSING in allegro_sandbox to the order's row in the
database — at 10 new orders/s, through a real Celery worker and beat with the default poll
settings (tick 5 s, busy interval 15 s, idle up to 60 s).

Orders are created paid (READY_FOR_PROCESSING at creation); the lag of an order is its
``imported_at`` minus the moment the sandbox created it. A warm-up (--warmup, default 60 s: the
longest idle interval) lets the account reach its busy rhythm before measuring, as an account
with 10 orders/s would be. Baseline in the same run: the poll schedule alone (half the busy
interval on average, the full interval at worst) — what lag costs that is not the schedule.

Prints JSON: p50/p95/max lag in seconds, orders measured/missing, polls and Allegro requests per
poll and per journal event (from the worker's `sync_poll` log lines). With
``--compare-list-reads`` the same run first measures with ``SYNC_LIST_READS=false`` (one GET per
form, the baseline), then with list reads on.

    .venv/bin/python bench/pull_lag.py [--seconds 300] [--rate 10] [--warmup 60]
        [--compare-list-reads]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=10.0, help="new orders per second")
    parser.add_argument("--warmup", type=float, default=60)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_lag"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/4")
    parser.add_argument(
        "--compare-list-reads",
        action="store_true",
        help="first a run with SYNC_LIST_READS=false (one GET per form) as the baseline",
    )
    return parser.parse_args()


def celery(kind: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    args = [sys.executable, "-m", "celery", "-A", "apilo", kind, "--loglevel", "INFO"]
    if kind == "worker":
        args += ["--concurrency", "2", "--pool", "prefork", "-n", f"bench-{os.getpid()}@%h"]
    else:
        args += ["--schedule", str(log.with_suffix(".schedule"))]
    with log.open("ab") as out:
        return subprocess.Popen(
            args,
            cwd=_common.ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def generate(control, rate: float, seconds: float) -> dict[str, float]:
    """Create `rate` paid orders per second for `seconds`; {id: created at (epoch)}."""
    created: dict[str, float] = {}
    start = time.time()
    n = 0
    while True:
        due = start + n / rate
        now = time.time()
        if due - start >= seconds:
            return created
        if due > now:
            time.sleep(due - now)
        [order_id] = control.create_orders(_common.SELLER, 1)
        created[order_id] = time.time()
        n += 1


def measure(control, channel, env: dict[str, str], logdir: Path, args) -> dict:
    """One run: worker and beat with ``env``, warm-up, orders at ``args.rate`` for
    ``args.seconds``, then wait until every order is in (at most 90 s)."""
    from django_scopes import scope

    from orders.models import Order

    processes = [
        celery("worker", env, logdir / "worker.log"),
        celery("beat", env, logdir / "beat.log"),
    ]
    try:
        generate(control, args.rate, args.warmup)
        created = generate(control, args.rate, args.seconds)
        deadline = time.time() + 90
        imported: dict[str, float] = {}
        while time.time() < deadline:
            with scope(tenant=channel.tenant):
                rows = Order.objects.filter(
                    channel=channel, external_id__in=list(created)
                ).values_list("external_id", "imported_at")
                imported = {external_id: at.timestamp() for external_id, at in rows}
            if len(imported) == len(created):
                break
            time.sleep(2)
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)

    lags = [imported[i] - created[i] for i in created if i in imported]
    polls = [
        dict(re.findall(r"(\w+)=(\S+)", line))
        for line in (logdir / "worker.log").read_text(errors="replace").splitlines()
        if "sync_poll " in line
    ]
    busy_polls = [p for p in polls if int(p.get("events", 0)) > 0]
    events = sum(int(p["events"]) for p in polls)
    requests = sum(int(p["requests"]) for p in polls)
    busy_requests = sum(int(p["requests"]) for p in busy_polls)
    return {
        "orders": len(created),
        "missing_after_90s": len(created) - len(lags),
        "lag_seconds": {
            "p50": round(statistics.median(lags), 2) if lags else None,
            "p95": round(_common.percentile(lags, 0.95), 2) if lags else None,
            "max": round(max(lags), 2) if lags else None,
        },
        "polls": len(polls),
        "polls_with_events": len(busy_polls),
        "events": events,
        "allegro_requests": requests,
        "allegro_requests_per_event": round(requests / events, 3) if events else None,
        "allegro_requests_per_busy_poll": (
            round(busy_requests / len(busy_polls), 1) if busy_polls else 0
        ),
        "events_per_busy_poll": (
            round(statistics.mean(int(p["events"]) for p in busy_polls), 1) if busy_polls else 0
        ),
        "busy_poll_duration_ms_p50": (
            statistics.median(int(p["duration_ms"]) for p in busy_polls) if busy_polls else 0
        ),
    }


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url)
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    runs: dict[str, dict] = {}
    try:
        control = _common.sandbox_control(base_url)
        secret = _common.prepare_sandbox(control)
        channel = _common.connected_channel(control, secret)
        env = dict(os.environ, LOG_LEVEL="INFO")
        env.update(_common.allegro_environment_env(base_url, secret))
        # Baseline first, in the same run: every form read on its own.
        modes = ["one_by_one", "list_reads"] if args.compare_list_reads else ["list_reads"]
        for mode in modes:
            logdir = Path(tempfile.mkdtemp(prefix=f"pull-lag-{mode}-"))
            mode_env = dict(env, SYNC_LIST_READS="true" if mode == "list_reads" else "false")
            runs[mode] = measure(control, channel, mode_env, logdir, args)
    finally:
        proc.terminate()

    from django.conf import settings

    busy = settings.SYNC_POLL_BUSY_SECONDS
    result = {
        "benchmark": "pull_lag",
        "rate_orders_per_second": args.rate,
        "measured_seconds": args.seconds,
        "warmup_seconds": args.warmup,
        **runs["list_reads"],
        "baseline_schedule_only_seconds": {
            "mean": busy / 2,
            "worst": busy,
            "note": "waiting for the next busy poll alone (SYNC_POLL_BUSY_SECONDS)",
        },
        "target": "p95 <= 20 s",
    }
    if "one_by_one" in runs:
        result["baseline_one_get_per_form"] = runs["one_by_one"]
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
