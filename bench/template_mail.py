"""Benchmark: what a status change pays for its template mail, and how fast the outbox delivers
the mails of many status changes to a local SMTP server (aiosmtpd).

* ``status_change_cost``: change_order_status on orders of a channel whose template set has a
  "status entered" template (one OutgoingMail row per change, written in the change's
  transaction) against the same change on a channel without a template set (the baseline, in
  the same run): SQL statements and wall ms per change (median, p95) and the difference.
* ``delivery``: --changes status changes on orders with the template, timed, then the outbox
  drained by the send task's body (notifications.sender.send, as a worker runs it, one row at a
  time, no broker) to an aiosmtpd server in this process: mails delivered per second and the
  outbox depth (rows waiting) after every tenth of the drain.

    .venv/bin/python bench/template_mail.py [--orders 200] [--changes 1000]

Full size (bench/README.md): --changes 10000. The raw queue_mail figures are bench/mail_outbox.py.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_template_mail"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url)
    _common.setup_django(args.database_url)
    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):
            Sink.received += 1
            return "250 OK"

    with socket.socket() as probe:  # a free port for the SMTP server
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        result = {
            "status_change_cost": status_change_cost(args.orders, port),
            "delivery": delivery(args.changes, port, Sink),
        }
        print(json.dumps(result, indent=2))
    finally:
        controller.stop()
        from apilo.celery import app

        app.control.purge()


def _setup(slug: str, alias: str, orders: int, port: int, with_set: bool):
    from django.contrib.auth.models import User
    from django_scopes import scope

    from channels.models import ConnectionState, SalesChannel
    from core.services import create_tenant
    from notifications.mailboxes import create_mailbox
    from notifications.template_sets import TemplateData, create_set, save_template
    from orders.ingest import upsert_orders_from_checkout_forms
    from orders.models import Order, OrderStatus
    from tests.support.orders import checkout_form

    user = User.objects.create_user(f"{slug}@bench.example", f"{slug}@bench.example", "x")
    tenant = create_tenant(name=slug, slug=slug, owner=user)
    with scope(tenant=tenant):
        mailbox = create_mailbox(
            tenant,
            password="",
            name="Bench",
            host="127.0.0.1",
            port=port,
            security="none",
            username="",
            from_name="Bench",
            from_address="bench@bench.example",
        )
        statuses = {s.system_code: s for s in OrderStatus.objects.exclude(system_code="")}
        template_set = None
        if with_set:
            template_set = create_set(tenant, name="Bench set", language="pl")
            save_template(
                template_set,
                TemplateData(
                    name="Status",
                    trigger="status_entered",
                    status=statuses["in_progress"],
                    category="other",
                    subject="Zamówienie {order.number}: {order.status}",
                    body_text="Dzień dobry {buyer.name},\n{order.items}\nRazem: {order.total}",
                    body_html="<p>Dzień dobry {buyer.name}</p><p>{order.items}</p>",
                ),
            )
        channel = SalesChannel.objects.create(
            tenant=tenant,
            name="Bench",
            alias=alias,
            allegro_login="bench",
            allegro_environment="local",
            connection_state=ConnectionState.CONNECTED,
            template_set=template_set,
            mailbox=mailbox,
        )
        forms = []
        for n in range(orders):
            form = checkout_form()
            form["buyer"]["email"] = f"buyer{n}@bench.example"
            forms.append(form)
        for start in range(0, len(forms), 100):
            upsert_orders_from_checkout_forms(channel, forms[start : start + 100])
        ids = list(
            Order.objects.filter(channel=channel).order_by("pk").values_list("pk", flat=True)
        )
    return tenant, user, statuses, ids


def _change_all(tenant, user, statuses, ids: list[int]) -> tuple[list[int], list[float]]:
    """Move each order to "in progress" and back to "new": the first change mails (if the
    channel has the template), the second does not; only the first is measured."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    from orders.changes import change_order_status
    from orders.models import Order

    queries: list[int] = []
    wall: list[float] = []
    with scope(tenant=tenant):
        for order_id in ids:
            order = Order.objects.select_related("channel", "status").get(pk=order_id)
            # The query log keeps 9 000 entries: once full, a capture would count nothing.
            reset_queries()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                change_order_status(order, statuses["in_progress"], user)
                wall.append((time.perf_counter() - started) * 1000)
            queries.append(len(captured))
            change_order_status(order, statuses["new"], user)
    return queries, wall


def _summary(queries: list[int], wall: list[float]) -> dict:
    return {
        "changes": len(queries),
        "sql_statements_median": statistics.median(queries),
        "sql_statements_max": max(queries),
        "wall_ms_median": round(statistics.median(wall), 2),
        "wall_ms_p95": round(_common.percentile(wall, 0.95), 2),
    }


def status_change_cost(orders: int, port: int) -> dict:
    from django_scopes import scopes_disabled

    from notifications.models import OutgoingMail

    plain = _setup("plain", "PL", orders, port, with_set=False)
    mailing = _setup("mailing", "ML", orders, port, with_set=True)
    baseline = _summary(*_change_all(*plain))
    with_mail = _summary(*_change_all(*mailing))
    with scopes_disabled():
        rows = OutgoingMail.objects.filter(tenant=mailing[0], kind="customer").count()
    return {
        "without_template_set": baseline,
        "with_template_mail": with_mail,
        "mail_rows_written": rows,
        "extra_sql_statements_median": with_mail["sql_statements_median"]
        - baseline["sql_statements_median"],
        "extra_wall_ms_median": round(with_mail["wall_ms_median"] - baseline["wall_ms_median"], 2),
    }


def delivery(changes: int, port: int, sink) -> dict:
    from django_scopes import scope, scopes_disabled

    from notifications import sender
    from notifications.models import MailState, OutgoingMail
    from orders.changes import change_order_status
    from orders.models import Order

    tenant, user, statuses, ids = _setup("delivery", "DL", changes, port, with_set=True)
    started = time.perf_counter()
    with scope(tenant=tenant):
        for order in Order.objects.select_related("channel", "status").filter(pk__in=ids):
            change_order_status(order, statuses["in_progress"], user)
    changing = time.perf_counter() - started
    with scopes_disabled():
        waiting = list(
            OutgoingMail.objects.filter(tenant=tenant, state=MailState.QUEUED)
            .order_by("id")
            .values_list("id", flat=True)
        )
    before = sink.received
    depth: list[int] = []
    step = max(1, len(waiting) // 10)
    started = time.perf_counter()
    with scope(tenant=tenant):
        for n, mail_id in enumerate(waiting, start=1):
            sender.send(mail_id)
            if n % step == 0:
                depth.append(len(waiting) - n)
    draining = time.perf_counter() - started
    delivered = sink.received - before
    return {
        "status_changes": len(ids),
        "status_changes_per_second": round(len(ids) / changing, 1),
        "mails_queued": len(waiting),
        "mails_delivered": delivered,
        "mails_delivered_per_second": round(delivered / draining, 1) if draining else None,
        "outbox_depth_every_tenth": depth,
    }


if __name__ == "__main__":
    main()
