"""Benchmark: a chaos run at size — many orders over many Allegro accounts while the deployment
is being broken, then how long it takes to converge, and whether every order arrived once.

The world: ``--accounts`` sandbox sellers, each the Allegro account of its own company (tenant)
with one connected channel and real tokens from the sandbox; one Celery worker with two
processes and one beat, as in production. Once every account has its journal cursor,
``--orders`` paid orders are created in the sandbox, spread over the accounts and over
``--seconds``. During that window:

- the worker (its main process and both children) is SIGKILLed every ``--kill-every`` seconds
  and started again at once;
- the broker's Redis database is emptied once (FLUSHDB of that database only), at a third of the
  window: every queued poll is lost;
- every PostgreSQL connection to the benchmark's own database is terminated once
  (``pg_terminate_backend`` for that database's connections only), at two thirds of the window.

Then the chaos stops and the benchmark waits until every created order is in the database.
Reported: orders missing (created in the sandbox, not imported), orders duplicated (rows beyond
one per checkout form, orders with more than one "imported" timeline entry, order numbers given
twice), time to converge after the window and after the last fault. Baseline in the same run:
the calm convergence bound of the poll schedule (one busy interval plus one tick): what
converging costs without faults.

    .venv/bin/python bench/chaos.py [--orders 20000] [--accounts 1000] [--seconds 300]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common

PASSWORD = "chaos-password"  # noqa: S105 (a sandbox seller of the benchmark)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--accounts", type=int, default=1_000)
    parser.add_argument(
        "--seconds", type=float, default=300, help="the window orders are created in"
    )
    parser.add_argument("--kill-every", type=float, default=20)
    parser.add_argument("--converge-timeout", type=float, default=900)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_chaos"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/8")
    return parser.parse_args()


class Deployment:
    """The worker and beat processes, each in a session of its own (so a kill takes its
    children too)."""

    def __init__(self, env: dict[str, str], logdir: Path) -> None:
        self.env = env
        self.logdir = logdir
        self.worker: subprocess.Popen | None = None
        self.beat: subprocess.Popen | None = None
        self.worker_starts = 0

    def _start(self, kind: str) -> subprocess.Popen:
        args = [sys.executable, "-m", "celery", "-A", "apilo", kind, "--loglevel", "INFO"]
        if kind == "worker":
            self.worker_starts += 1
            args += [
                "--concurrency",
                "2",
                "--pool",
                "prefork",
                "-n",
                f"chaos-{os.getpid()}-{self.worker_starts}@%h",
            ]
        else:
            args += ["--schedule", str(self.logdir / "beat.schedule")]
        with (self.logdir / f"{kind}.log").open("ab") as out:
            return subprocess.Popen(
                args,
                cwd=_common.ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def start(self) -> None:
        self.worker = self._start("worker")
        self.beat = self._start("beat")

    def kill_worker(self) -> None:
        assert self.worker is not None
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait()
        self.worker = self._start("worker")

    def stop(self) -> None:
        for process in (self.worker, self.beat):
            if process is not None and process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in (self.worker, self.beat):
            if process is not None:
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()


def connect_accounts(control, secret: str, accounts: int) -> list[tuple[str, int]]:
    """``accounts`` sandbox sellers, each connected as the one channel of its own company.
    Returns (seller login, tenant id) per account."""
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
    out = []
    for n in range(accounts):
        login = f"chaos-{n:04d}"
        seller_id = str(71_000_000 + n)
        control.create_seller(login, PASSWORD, id=seller_id, offers=3)
        tenant = Tenant.objects.create(slug=f"chaos-{n:04d}", name=f"Chaos {n}")
        seed_default_statuses(tenant)
        token = control.connect_seller(login, _common.CLIENT_ID, secret, _common.REDIRECT_URI)
        with scope(tenant=tenant):
            channel = create_channel(
                tenant=tenant,
                data={
                    "name": f"Chaos {n}",
                    "alias": "CH",
                    "allegro_login": login,
                    "allegro_environment": "local",
                    "backfill_days": 0,
                },
            )
            now = timezone.now()
            store_pair_locked(
                AllegroCredential(tenant=tenant, channel=channel, version=0),
                TokenPair(token["access_token"], token["refresh_token"], token["expires_in"], ""),
                obtained_at=now,
            )
            SalesChannel.objects.filter(pk=channel.pk).update(
                connection_state=ConnectionState.CONNECTED,
                connected_login=login,
                connected_seller_id=seller_id,
                connected_at=now,
            )
        out.append((login, tenant.pk))
    return out


def cursors_ready(accounts: int, timeout: float) -> float:
    """Wait until every account's first poll has set its journal cursor; seconds it took."""
    from django.db import connection
    from django_scopes import scopes_disabled

    from sync.models import ChannelSyncState

    start = time.time()
    while time.time() - start < timeout:
        with scopes_disabled():
            ready = ChannelSyncState.objects.exclude(cursor_bootstrapped_at=None).count()
        connection.close()
        if ready >= accounts:
            return time.time() - start
        time.sleep(2)
    raise SystemExit(f"only {ready} of {accounts} accounts have a cursor after {timeout} s")


def order_plan(sellers: list[str], orders: int, rng: random.Random) -> list[tuple[str, int]]:
    """(seller, how many) requests: every seller gets its share in chunks of at most 5, in a
    random order across sellers."""
    per, extra = divmod(orders, len(sellers))
    plan = []
    for index, seller in enumerate(sellers):
        share = per + (1 if index < extra else 0)
        while share > 0:
            chunk = min(5, share)
            plan.append((seller, chunk))
            share -= chunk
    rng.shuffle(plan)
    return plan


def flush_broker(broker_url: str) -> int:
    """FLUSHDB of the broker's own database (never FLUSHALL: other databases are not ours)."""
    import redis

    client = redis.Redis.from_url(broker_url)
    keys = client.dbsize()
    client.flushdb()
    return keys


def terminate_connections(database_url: str) -> int:
    """Terminate every connection to the benchmark's database (and only that database)."""
    import psycopg2

    parts = urlparse(database_url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        host=parts.hostname, port=parts.port or 5432, user=parts.username, dbname="postgres"
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        )
        [terminated] = cursor.fetchone()
    admin.close()
    return int(terminated)


def between_kills(at: float, kill_every: float) -> float:
    """The moment halfway between the two worker kills around ``at`` (seconds into the
    window)."""
    return (at // kill_every) * kill_every + kill_every / 2


def run_window(
    control, deployment: Deployment, plan: list[tuple[str, int]], args: argparse.Namespace
) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """Create the planned orders evenly over the window while the faults happen on schedule.
    Returns {checkout form id: seller} and the faults (what, when after the window's start)."""
    created: dict[str, str] = {}
    faults: list[dict[str, Any]] = []
    start = time.time()
    next_kill = start + args.kill_every
    # Halfway between two kills, so the fault meets a worker that is running, not one that is
    # starting.
    flush_at = start + between_kills(args.seconds / 3, args.kill_every)
    terminate_at = start + between_kills(2 * args.seconds / 3, args.kill_every)
    flushed = terminated = False
    step = args.seconds / max(1, len(plan))
    for index, (seller, count) in enumerate(plan):
        due = start + index * step
        while True:
            now = time.time()
            if now >= next_kill:
                deployment.kill_worker()
                faults.append({"fault": "worker SIGKILL", "at_s": round(now - start, 1)})
                next_kill += args.kill_every
            elif not flushed and now >= flush_at:
                keys = flush_broker(args.redis_url)
                faults.append(
                    {"fault": "broker FLUSHDB", "at_s": round(now - start, 1), "keys": keys}
                )
                flushed = True
            elif not terminated and now >= terminate_at:
                count_terminated = terminate_connections(args.database_url)
                if count_terminated:
                    faults.append(
                        {
                            "fault": "pg_terminate_backend",
                            "at_s": round(now - start, 1),
                            "connections": count_terminated,
                        }
                    )
                    terminated = True
                else:  # nobody connected at this instant: try again in a moment
                    terminate_at = now + 0.5
            elif now >= due:
                break
            else:
                time.sleep(min(0.05, due - now))
        for order_id in control.create_orders(seller, count):
            created[order_id] = seller
    while time.time() < start + args.seconds:
        time.sleep(0.1)
    return created, faults


def imported_counts(created: dict[str, str]) -> dict[str, int]:
    """{checkout form id: rows} for the created orders found in the database."""
    from django.db import connection
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from orders.models import Order

    with scopes_disabled():
        rows = (
            Order.objects.filter(external_id__in=list(created))
            .values("external_id")
            .annotate(n=Count("pk"))
            .values_list("external_id", "n")
        )
        out = dict(rows)
    connection.close()
    return out


def duplicates() -> dict[str, int]:
    from django.db.models import Count
    from django_scopes import scopes_disabled

    from orders.models import Order, OrderEvent, OrderEventKind

    with scopes_disabled():
        forms = (
            Order.objects.values("tenant_id", "channel_id", "external_id")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
        numbers = (
            Order.objects.values("tenant_id", "number").annotate(n=Count("pk")).filter(n__gt=1)
        ).count()
        entries = (
            OrderEvent.objects.filter(kind=OrderEventKind.IMPORTED)
            .values("order_id")
            .annotate(n=Count("pk"))
            .filter(n__gt=1)
            .count()
        )
    return {
        "checkout_forms_with_more_than_one_order": forms,
        "order_numbers_given_twice": numbers,
        "orders_with_more_than_one_imported_entry": entries,
    }


def main() -> None:
    args = parse_args()
    rng = random.Random(args.seed)
    _common.configure(args.database_url, args.redis_url)
    _common.setup_django(args.database_url)
    sandbox, base_url = _common.start_sandbox()
    logdir = Path(tempfile.mkdtemp(prefix="chaos-"))
    deployment: Deployment | None = None
    try:
        control = _common.sandbox_control(base_url)
        secret = "chaos-" + str(rng.getrandbits(64))
        control.reset()
        control.create_client_app(_common.CLIENT_ID, secret, [_common.REDIRECT_URI], name="apilo")
        control.set_rate_limit(limit=1_000_000, client_id=_common.CLIENT_ID)
        setup_start = time.time()
        accounts = connect_accounts(control, secret, args.accounts)
        setup_seconds = time.time() - setup_start

        env = dict(os.environ, LOG_LEVEL="INFO")
        env.update(_common.allegro_environment_env(base_url, secret))
        deployment = Deployment(env, logdir)
        deployment.start()
        bootstrap_seconds = cursors_ready(args.accounts, timeout=600)

        plan = order_plan([login for login, _tenant in accounts], args.orders, rng)
        window_start = time.time()
        created, faults = run_window(control, deployment, plan, args)
        window_end = time.time()

        found: dict[str, int] = {}
        converged_at: float | None = None
        while time.time() < window_end + args.converge_timeout:
            found = imported_counts(created)
            if len(found) == len(created):
                converged_at = time.time()
                break
            time.sleep(2)
        dupes = duplicates()
    finally:
        if deployment is not None:
            deployment.stop()
        sandbox.terminate()

    from django.conf import settings

    last_fault = window_start + max((f["at_s"] for f in faults), default=0.0)
    calm_bound = settings.SYNC_POLL_BUSY_SECONDS + settings.SYNC_POLL_TICK_SECONDS
    missing = len(created) - len(found)
    duplicated = sum(n - 1 for n in found.values()) + sum(dupes.values())
    result = {
        "benchmark": "chaos",
        "orders": len(created),
        "accounts": args.accounts,
        "window_seconds": args.seconds,
        "orders_per_second": round(len(created) / args.seconds, 1),
        "worker": "1 worker, 2 processes (prefork), 1 beat",
        "faults": {
            "worker_sigkills": sum(f["fault"] == "worker SIGKILL" for f in faults),
            "kill_every_seconds": args.kill_every,
            "broker_flushdb": [f for f in faults if f["fault"] == "broker FLUSHDB"],
            "pg_terminate_backend": [f for f in faults if f["fault"] == "pg_terminate_backend"],
        },
        # Without convergence these are the orders not imported when the wait ended: late or
        # lost, the run cannot tell which.
        "missing": missing,
        "duplicated": duplicated,
        "duplicates_by_kind": dupes,
        "converged": converged_at is not None,
        "converge_timeout_seconds": args.converge_timeout,
        "seconds_to_converge_after_window": (
            round(converged_at - window_end, 1) if converged_at else None
        ),
        "seconds_to_converge_after_last_fault": (
            round(converged_at - last_fault, 1) if converged_at else None
        ),
        "baseline_calm_bound_seconds": {
            "value": calm_bound,
            "note": "one busy poll interval plus one beat tick: the latest a calm deployment "
            "imports an order created at the window's end",
        },
        "setup_seconds": round(setup_seconds, 1),
        "first_polls_seconds": round(bootstrap_seconds, 1),
        "logs": str(logdir),
    }
    print(json.dumps(result, indent=2))
    if missing or duplicated:
        sys.exit(1)


if __name__ == "__main__":
    main()
