"""Benchmark: labels through Wysyłam z Allegro for many orders — wall time and Allegro requests
per label — made as a batch (every create command sent, then their statuses read as Allegro's
Retry-After says, one label file for all) against the baseline of the same orders one by one
in sequence (each label waited for before the next, its own file), in the same run.

Measured in this process against allegro_sandbox over HTTP (commands take Allegro's usual
second, Retry-After 1), calling the task bodies as workers would (no broker):

    .venv/bin/python bench/labels.py [--orders 20]   # the issue's figure: --orders 200
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20)
    parser.add_argument("--command-seconds", type=float, default=1.0)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_labels"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    _common.configure(
        args.database_url,
        args.redis_url,
        FULFILLMENT_DISPATCH_ON_COMMIT="0",
        LABEL_STORAGE_DIR=str(_common.ROOT / "bench" / "results" / "labels-files"),
    )
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    try:
        sandbox = _common.sandbox_control(base_url)
        app, channel, user, orders = _common.push_setup(sandbox, args.orders * 2)
        sandbox.wza(command_seconds=args.command_seconds, waybill_delay_seconds=0)
        print(json.dumps(measure(channel, user, orders, sandbox, app.client_id, args), indent=2))
    finally:
        proc.kill()


def _drive(jobs_by_id: dict[int, object], tenant_id: int) -> None:
    """Advance open jobs as workers would: each when its Retry-After has passed."""
    from django.utils import timezone

    from fulfillment.models import LabelJob
    from fulfillment.services.labels.jobs import OPEN, advance

    due = dict.fromkeys(jobs_by_id, 0.0)
    while due:
        now = time.monotonic()
        for job_id, at in sorted(due.items(), key=lambda item: item[1]):
            if at > now:
                continue
            step = advance(tenant_id, job_id)
            if step.retry_in is None or step.state not in OPEN:
                del due[job_id]
            else:
                due[job_id] = time.monotonic() + step.retry_in
        if due:
            time.sleep(max(0.0, min(due.values()) - time.monotonic()))
    assert not LabelJob.objects.filter(pk__in=list(jobs_by_id), state__in=OPEN).exists()
    del timezone


def measure(channel, user, orders, sandbox, client_id: str, args) -> dict:
    from django_scopes import scope

    from fulfillment.models import LabelJob, LabelState
    from fulfillment.services.labels.accounts import save_courier_account
    from fulfillment.services.labels.batches import assemble, create_batch
    from fulfillment.services.labels.jobs import create_label
    from fulfillment.services.labels.proposals import refresh_proposal
    from tests.labels.helpers import SENDER

    tenant = channel.tenant
    batch_orders, single_orders = orders[: args.orders], orders[args.orders :]

    def requests() -> int:
        return sandbox.stats()["by_client"].get(client_id, 0)

    with scope(tenant=tenant):
        account = save_courier_account(tenant, {**SENDER, "channel": channel})

        # baseline: one by one, each label waited for (its proposal, as the page reads it)
        before = requests()
        with _common.Stopwatch() as one_by_one:
            for order in single_orders:
                refresh_proposal(order)
                job = create_label(order, account, parcels=None, actor=user)
                _drive({job.pk: job}, tenant.pk)
        single_requests = requests() - before
        single_ready = LabelJob.objects.filter(
            order__in=single_orders, state=LabelState.READY
        ).count()

        before = requests()
        with _common.Stopwatch() as batched:
            batch, skipped = create_batch(batch_orders, account, user)
            jobs = {j.pk: j for j in LabelJob.objects.filter(batch=batch)}
            _drive(jobs, tenant.pk)
            assemble(tenant.pk, batch.pk)
        batch_requests = requests() - before
        batch.refresh_from_db()
        batch_ready = LabelJob.objects.filter(batch=batch, state=LabelState.READY).count()

    n = args.orders
    return {
        "orders": n,
        "command_seconds": args.command_seconds,
        "batch": {
            "wall_s": round(batched.wall, 2),
            "labels_ready": batch_ready,
            "skipped": len(skipped),
            "allegro_requests_per_label": round(batch_requests / n, 2),
            "one_file_bytes": batch.file.size if batch.file else 0,
        },
        "one_by_one_baseline": {
            "wall_s": round(one_by_one.wall, 2),
            "labels_ready": single_ready,
            "allegro_requests_per_label": round(single_requests / n, 2),
        },
        "speedup": round(one_by_one.wall / batched.wall, 1) if batched.wall else None,
    }


if __name__ == "__main__":
    main()
