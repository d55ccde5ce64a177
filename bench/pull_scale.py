"""Benchmark: pull lag with many connected accounts — the budget's poll plan (sync/schedule.py)
against the fixed schedule of before (``SYNC_POLL_PLAN=fixed``: busy accounts every 15 s, idle
ones backing off to 60 s), in the same run.

For every number of accounts (--accounts, default 1,100,1000) and every plan: a fresh database,
allegro_sandbox with that many sellers (its own 9 000 requests/min limit per client id, as
Allegro's), each connected as a channel, real Celery processes as deployed — a worker for the
``sync`` queue (--sync-workers processes of --concurrency each), one for the other queues, and
beat. After every account's first poll and a warm-up (--warmup), paid orders are created at
--rate per second for --seconds, each for a seller picked at random; the lag of an order is its
``imported_at`` minus the moment the sandbox created it.

Prints JSON per run: p50/p95/max lag, orders measured/missing, Allegro requests per minute
(the sandbox's count for our client id over the measured window, and the highest count over
any 60 s of it, sampled every 5 s) against the budget, the sandbox's 429 answers, and the poll
plan the beat last computed.

With --faults the sandbox answers our client id's requests under --fault-path-prefix (every API
request when not given; the checkout-form reads, list and single GET, with the prefix of their
path) with a 5xx one time in ten (--fault-5xx) and --fault-latency-ms late, from the start of
the measured window until the end of the run, and blocks the client id with 429s for
--block-429-seconds halfway through the window; the JSON then also counts the injected 5xx
answers.

    .venv/bin/python bench/pull_scale.py [--accounts 1,100,1000] [--seconds 90] [--rate 10]
    .venv/bin/python bench/pull_scale.py --accounts 100 --faults --fault-path-prefix PREFIX
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", default="1,100,1000")
    parser.add_argument("--plans", default="budget,fixed")
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--rate", type=float, default=10.0, help="new orders per second, in all")
    parser.add_argument("--warmup", type=float, default=30)
    parser.add_argument("--sync-workers", type=int, default=1, help="worker processes on sync")
    parser.add_argument("--concurrency", type=int, default=2, help="pool of each sync worker")
    parser.add_argument("--faults", action="store_true", help="5xx, slow answers, a 429 block")
    parser.add_argument("--fault-5xx", type=float, default=0.1, help="share of the requests hit")
    parser.add_argument("--fault-latency-ms", type=float, default=300)
    parser.add_argument("--fault-path-prefix", default=None, help="faults only under this path")
    parser.add_argument("--block-429-seconds", type=float, default=20)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_scale"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5")
    return parser.parse_args()


def celery(kind: str, env: dict[str, str], log: Path, *extra: str) -> subprocess.Popen:
    args = [sys.executable, "-m", "celery", "-A", "apilo", kind, "--loglevel", "INFO", *extra]
    if kind == "beat":
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


def connected_channels(control, secret: str, count: int) -> list[tuple[str, int]]:
    """``count`` sandbox sellers, each connected as a channel (500 per tenant); [(login, pk)]."""
    from django.conf import settings
    from django.utils import timezone
    from django_scopes import scope

    from channels.clients.allegro import TokenPair
    from channels.models import AllegroCredential, ConnectionState, SalesChannel
    from channels.services.channels import create_channel
    from channels.services.tokens import store_pair_locked
    from core.models import Tenant
    from orders.statuses import seed_default_statuses

    settings.ALLEGRO_ENVIRONMENTS["local"].update(
        auth_url=control.base_url,
        api_url=control.base_url,
        client_id=_common.CLIENT_ID,
        client_secret=secret,
    )
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out: list[tuple[str, int]] = []
    for i in range(count):
        login, seller_id = f"scale-seller-{i}", str(71000001 + i)
        control.create_seller(login, "bench-password", id=seller_id, offers=1)
        tenant, created = Tenant.objects.get_or_create(
            slug=f"scale-{i // 500}", defaults={"name": f"Scale {i // 500}"}
        )
        if created:
            seed_default_statuses(tenant)
        token = control.connect_seller(login, _common.CLIENT_ID, secret, _common.REDIRECT_URI)
        alias = letters[(i % 500) // 26] + letters[(i % 500) % 26]
        with scope(tenant=tenant):
            channel = create_channel(
                tenant=tenant,
                data={
                    "name": f"Scale {i}",
                    "alias": alias,
                    "allegro_login": login,
                    "allegro_environment": "local",
                    "backfill_days": 0,
                },
            )
            now = timezone.now()
            cred = AllegroCredential(tenant=tenant, channel=channel, version=0)
            pair = TokenPair(token["access_token"], token["refresh_token"], token["expires_in"], "")
            store_pair_locked(cred, pair, obtained_at=now)
            SalesChannel.objects.filter(pk=channel.pk).update(
                connection_state=ConnectionState.CONNECTED,
                connected_login=login,
                connected_seller_id=seller_id,
                connected_at=now,
            )
        out.append((login, channel.pk))
    return out


def run(args: argparse.Namespace, accounts: int, plan: str) -> dict:
    if "django" in sys.modules and sys.modules["django"].apps.apps.ready:
        from django.db import connections

        connections.close_all()  # the database is recreated under us
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    processes: list[subprocess.Popen] = []
    block: threading.Timer | None = None
    logdir = Path(tempfile.mkdtemp(prefix=f"pull-scale-{accounts}-{plan}-"))
    try:
        control = _common.sandbox_control(base_url)
        secret = _common.prepare_sandbox(control)
        sellers = connected_channels(control, secret, accounts)
        env = dict(os.environ, LOG_LEVEL="INFO", SYNC_POLL_PLAN=plan)
        env.update(_common.allegro_environment_env(base_url, secret))
        for n in range(args.sync_workers):
            processes.append(
                celery(
                    "worker",
                    env,
                    logdir / f"sync-{n}.log",
                    "-Q",
                    "sync",
                    "--concurrency",
                    str(args.concurrency),
                    "-n",
                    f"scale-sync-{n}-{os.getpid()}@%h",
                )
            )
        processes.append(
            celery(
                "worker",
                env,
                logdir / "other.log",
                "-Q",
                "celery,push,mail",
                "--concurrency",
                "1",
                "-n",
                f"scale-other-{os.getpid()}@%h",
            )
        )
        processes.append(celery("beat", env, logdir / "beat.log"))

        from django.core.cache import cache
        from django_scopes import scopes_disabled

        from orders.models import Order
        from sync.models import ChannelSyncState
        from sync.schedule import PLAN_CACHE_KEY

        started = time.time()
        with scopes_disabled():
            while time.time() - started < 300:
                bootstrapped = ChannelSyncState.objects.filter(
                    cursor_bootstrapped_at__isnull=False
                ).count()
                if bootstrapped >= accounts:
                    break
                time.sleep(1)
        bootstrap_seconds = round(time.time() - started, 1)

        rng = random.Random(accounts)
        generate(control, sellers, rng, args.rate, args.warmup)
        if args.faults:
            control.set_faults(
                client_id=_common.CLIENT_ID,
                error_5xx=args.fault_5xx,
                latency_ms=args.fault_latency_ms,
                path_prefix=args.fault_path_prefix,
                seed=accounts,
            )
            block = threading.Timer(
                args.seconds / 2,
                _common.sandbox_control(base_url).block_client,
                args=(_common.CLIENT_ID, args.block_429_seconds),
            )
            block.start()
        before = control.stats()
        samples = [(time.time(), _ours(before))]
        created = generate(control, sellers, rng, args.rate, args.seconds, samples)
        after = control.stats()
        samples.append((time.time(), _ours(after)))
        plan_seen = cache.get(PLAN_CACHE_KEY)
        deadline = time.time() + 90
        imported: dict[str, float] = {}
        while time.time() < deadline:
            with scopes_disabled():
                rows = Order.objects.filter(external_id__in=list(created)).values_list(
                    "external_id", "imported_at"
                )
                imported = {external_id: at.timestamp() for external_id, at in rows}
            if len(imported) == len(created):
                break
            time.sleep(2)
    finally:
        if block is not None:
            block.cancel()
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        proc.terminate()

    lags = [imported[i] - created[i] for i in created if i in imported]
    # Polls the sync workers finished in the measured window (their log lines' times).
    t0, t1 = samples[0][0], samples[-1][0]
    polls = 0
    for n in range(args.sync_workers):
        for line in (logdir / f"sync-{n}.log").read_text(errors="replace").splitlines():
            match = re.match(r"\[?(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d+)", line)
            if not match or "sync_poll " not in line or "status=skipped" in line:
                continue
            # The machine's local time, as the log wrote it.
            at = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S")
            stamp = at.timestamp() + int(match.group(2)) / 1000
            polls += t0 <= stamp <= t1
    requests = _ours(after) - _ours(before)
    window = max(samples[-1][0] - samples[0][0], 1e-9)
    peak = _peak_per_minute(samples)
    return {
        "accounts": accounts,
        "plan": plan,
        "rate_orders_per_second": args.rate,
        "measured_seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "bootstrap_seconds": bootstrap_seconds,
        "orders": len(created),
        "missing_after_90s": len(created) - len(lags),
        "lag_seconds": {
            "p50": round(statistics.median(lags), 2) if lags else None,
            "p95": round(_common.percentile(lags, 0.95), 2) if lags else None,
            "max": round(max(lags), 2) if lags else None,
        },
        "allegro_requests_per_minute": round(requests * 60 / window, 1),
        "allegro_requests_per_minute_peak_60s": peak,
        "budget_per_minute": 9000,
        "answers_429": after["by_status"].get("429", 0) - before["by_status"].get("429", 0),
        "answers_5xx": sum(
            after["by_status"].get(code, 0) - before["by_status"].get(code, 0)
            for code in ("500", "502", "503", "504")
        ),
        "faults": (
            {
                "error_5xx": args.fault_5xx,
                "latency_ms": args.fault_latency_ms,
                "path_prefix": args.fault_path_prefix,
                "block_429_seconds": args.block_429_seconds,
            }
            if args.faults
            else None
        ),
        "sync_workers": f"{args.sync_workers}x{args.concurrency}",
        "polls_per_minute_done": round(polls * 60 / window, 1),
        "plan_seen": (
            {
                "busy_seconds": plan_seen.busy_seconds,
                "idle_max_seconds": plan_seen.idle_max_seconds,
                "polls_per_minute": plan_seen.polls_per_minute,
            }
            if plan_seen is not None
            else None
        ),
    }


def _ours(stats: dict) -> int:
    return int(stats["by_client"].get(_common.CLIENT_ID, 0))


def _peak_per_minute(samples: list[tuple[float, int]]) -> float | None:
    """The most requests in any 60 s between two samples (None when the run is shorter)."""
    best = None
    for i, (t0, n0) in enumerate(samples):
        for t1, n1 in samples[i + 1 :]:
            if t1 - t0 >= 60:
                rate = (n1 - n0) * 60 / (t1 - t0)
                best = rate if best is None else max(best, rate)
                break
    return round(best, 1) if best is not None else None


def generate(
    control,
    sellers: list[tuple[str, int]],
    rng: random.Random,
    rate: float,
    seconds: float,
    samples: list[tuple[float, int]] | None = None,
) -> dict[str, float]:
    """``rate`` paid orders per second for ``seconds``, each for a random seller."""
    created: dict[str, float] = {}
    start = time.time()
    last_sample = start
    n = 0
    while True:
        due = start + n / rate
        now = time.time()
        if due - start >= seconds:
            return created
        if due > now:
            time.sleep(due - now)
        login, _pk = rng.choice(sellers)
        [order_id] = control.create_orders(login, 1)
        created[order_id] = time.time()
        n += 1
        if samples is not None and time.time() - last_sample >= 5:
            last_sample = time.time()
            samples.append((last_sample, _ours(control.stats())))


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url)
    results = []
    for accounts in [int(a) for a in args.accounts.split(",")]:
        for plan in args.plans.split(","):
            result = run(args, accounts, plan)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
    print(json.dumps({"benchmark": "pull_scale", "runs": results}, indent=2))


if __name__ == "__main__":
    main()
