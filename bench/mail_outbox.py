"""Benchmark: the mail outbox — mails delivered per second by real Celery workers to a local
aiosmtpd for N queued mails, the outbox's depth over time, against sending inline (each mail
over its own SMTP connection in the caller, as a request would; the baseline, same run), and
the cost `queue_mail` adds to the caller's transaction (SQL statements, ms).

Runs against its own database (apilo_bench_mail) with two Celery workers (two processes each)
and beat; the SMTP server runs in this process.

    .venv/bin/python bench/mail_outbox.py [--mails 2000] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common


class CountingHandler:
    """Accepts every message and counts it (no parsing: the server must not be the limit)."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.count += 1
        return "250 2.0.0 Ok"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mails", type=int, default=2000)
    parser.add_argument("--inline-mails", type=int, default=None, help="default: --mails")
    parser.add_argument("--cost-samples", type=int, default=300)
    parser.add_argument("--workers", type=int, default=2, help="worker processes (2 pool each)")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_mail"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url)
    _common.setup_django(args.database_url)
    from aiosmtpd.controller import Controller

    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        print(json.dumps(run(args, handler, port), indent=2))
    finally:
        controller.stop()


def run(args: argparse.Namespace, handler: CountingHandler, port: int) -> dict:
    from django.db import transaction
    from django_scopes import scope, scopes_disabled

    from apilo.celery import app
    from notifications import smtp
    from notifications.mailboxes import create_mailbox
    from notifications.models import MailState, OutgoingMail
    from notifications.outbox import queue_mail
    from notifications.sender import _message
    from tests.celery_support import CeleryProcess
    from tests.factories import TenantFactory

    tenant = TenantFactory(name="Bench", slug="bench")
    with scope(tenant=tenant):
        box = create_mailbox(
            tenant,
            name="Bench",
            host="127.0.0.1",
            port=port,
            security="none",
            username="",
            from_name="Bench",
            from_address="bench@bench.example",
        )

    def mail(i: int, **kw: Any) -> OutgoingMail:
        return queue_mail(
            tenant=tenant,
            to=f"kupujacy{i}@example.com",
            subject=f"Zamówienie {i} zmieniło status",
            text=f"Dzień dobry,\n\nzamówienie {i} jest w drodze.\n",
            html=f"<p>Dzień dobry,</p><p>zamówienie <b>{i}</b> jest w drodze.</p>",
            mailbox=box,
            kind="customer",
            **kw,
        )

    # 1. What queue_mail adds to a transaction (dispatch on commit to the real broker).
    app.control.purge()

    def cost(**kw: Any) -> dict:
        statements, wall = [], []
        for i in range(args.cost_samples):
            with (
                scope(tenant=tenant),
                _common.QueryCounter() as counter,
                _common.Stopwatch() as watch,
                transaction.atomic(),
            ):
                mail(i, **{k: f"{v}:{i}" for k, v in kw.items()})
            statements.append(counter.count)
            wall.append(watch.wall * 1000)
        return {
            "sql_statements": sorted(set(statements)),
            "ms_p50": round(_common.percentile(wall, 0.5), 2),
            "ms_p95": round(_common.percentile(wall, 0.95), 2),
        }

    empty = []
    for _ in range(args.cost_samples):
        with _common.Stopwatch() as watch, transaction.atomic():
            pass
        empty.append(watch.wall * 1000)
    queue_cost = {
        "queue_mail": cost(),
        "queue_mail_with_dedupe_key": cost(dedupe_key="bench"),
        "empty_transaction_ms_p50": round(_common.percentile(empty, 0.5), 3),
    }
    app.control.purge()
    with scopes_disabled():
        OutgoingMail.objects.all().delete()
    handler.count = 0

    # 2. Baseline: each mail sent inline, over its own connection, as a request would.
    inline_n = args.inline_mails or args.mails
    with scope(tenant=tenant):
        rows = [OutgoingMail(mailbox=box, to_address=f"k{i}@example.com", subject="s", text="t",
                             message_id=f"<{i}@bench>") for i in range(1)]  # fmt: skip
    config = smtp.SMTPConfig("127.0.0.1", port, "none", "", "", 10.0)
    sample = _message(rows[0]).message().as_bytes()
    started = time.monotonic()
    latencies = []
    for i in range(inline_n):
        t = time.monotonic()
        reply = smtp.deliver(
            config, envelope_from="bench@bench.example", to=f"k{i}@example.com", message=sample
        )
        latencies.append((time.monotonic() - t) * 1000)
        assert reply.delivered, reply
    inline_seconds = time.monotonic() - started
    inline = {
        "mails": inline_n,
        "seconds": round(inline_seconds, 2),
        "mails_per_second": round(inline_n / inline_seconds, 1),
        "ms_the_caller_waits_p50": round(_common.percentile(latencies, 0.5), 2),
        "ms_the_caller_waits_p95": round(_common.percentile(latencies, 0.95), 2),
    }
    handler.count = 0

    # 3. The outbox: N mails queued (100 per transaction), sent by the workers.
    app.control.purge()
    workers = [CeleryProcess("worker").start() for _ in range(args.workers)]
    for worker in workers:
        worker.wait_for_log("ready.", timeout=90)
    beat = CeleryProcess("beat", {"BEAT_HEARTBEAT_SECONDS": "30"}).start()
    depth: list[tuple[float, int]] = []
    try:
        started = time.monotonic()
        with scope(tenant=tenant):
            for start in range(0, args.mails, 100):
                with transaction.atomic():
                    for i in range(start, min(args.mails, start + 100)):
                        mail(i)
        queued_seconds = time.monotonic() - started
        deadline = started + max(120.0, args.mails / 5)
        while time.monotonic() < deadline:
            with scopes_disabled():
                waiting = OutgoingMail.objects.exclude(state=MailState.SENT).count()
            depth.append((round(time.monotonic() - started, 2), waiting))
            if waiting == 0:
                break
            time.sleep(0.5)
        outbox_seconds = time.monotonic() - started
        with scopes_disabled():
            states = dict(
                OutgoingMail.objects.values_list("state")
                .annotate(n=_count())
                .values_list("state", "n")
            )
            tries = sum(OutgoingMail.objects.values_list("attempts", flat=True))
    finally:
        for process in (beat, *workers):
            process.stop()
    outbox = {
        "mails": args.mails,
        "workers": f"{args.workers}x2",
        "seconds_to_queue": round(queued_seconds, 2),
        "seconds_until_all_sent": round(outbox_seconds, 2),
        "mails_per_second": round(args.mails / outbox_seconds, 1),
        "states": states,
        "smtp_messages_received": handler.count,
        "tries": tries,
        "depth_over_time": depth[:: max(1, len(depth) // 40)] + depth[-1:],
    }
    return {
        "queue_mail_cost": queue_cost,
        "inline_baseline": inline,
        "outbox": outbox,
        "outbox_vs_inline_throughput": round(
            outbox["mails_per_second"] / inline["mails_per_second"], 2
        ),
    }


def _count():
    from django.db.models import Count

    return Count("id")


if __name__ == "__main__":
    main()
