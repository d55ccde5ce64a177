"""Benchmark: backfill of 20 000 orders from allegro_sandbox, against a naive importer.

Ours: sync.backfill (pages of 100 from GET /order/checkout-forms, one batch upsert
per page through orders.ingest), run in this process page after page as the Celery tasks would.
Baseline, same process, same sandbox: the naive importer — list the ids (100 per page), then per
order GET /order/checkout-forms/{id} and `update_or_create` of the order and of each line.
The naive importer runs on the first --naive-orders orders (default 2 000) and is compared by
rate. Both go through the same client (token, rate limiter: raised for the bench so neither is
throttled — at Allegro's real 9 000 requests/min the naive importer could not exceed 150
orders/s whatever its speed).

Prints JSON: orders/s, Allegro requests per order, SQL queries per order, CPU ms per order,
and the speed-up. Own database (--database-url, default apilo_bench_sync).

    .venv/bin/python bench/backfill.py [--orders 20000] [--naive-orders 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--naive-orders", type=int, default=2_000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_sync"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    return parser.parse_args()


def run_ours(channel, days: int) -> dict:
    from django.utils import timezone
    from django_scopes import scope

    from sync.backfill import request_reimport, run_backfill
    from sync.models import ChannelSyncState

    today = timezone.localdate()
    with scope(tenant=channel.tenant):
        state = request_reimport(channel, today - dt.timedelta(days=days), today)
        run = state.backfill_run
        requests = 0
        with _common.Stopwatch() as watch, _common.QueryCounter() as queries:
            while True:
                step = run_backfill(channel.pk, run, max_pages=20)
                requests += step.requests
                if step.status != "continue":
                    break
        state = ChannelSyncState.objects.get(pk=state.pk)
    orders = state.backfill_created
    return {
        "orders": orders,
        "status": step.status,
        "seconds": round(watch.wall, 2),
        "orders_per_second": round(orders / watch.wall, 1),
        "allegro_requests": requests,
        "allegro_requests_per_order": round(requests / orders, 4),
        "sql_queries_per_order": round(len(queries) / orders, 3),
        "cpu_ms_per_order": round(watch.cpu * 1000 / orders, 3),
    }


def naive_import(channel, limit: int, days: int) -> dict:
    """Per order: GET the form, update_or_create the order, update_or_create each line."""
    from django.db import transaction
    from django.utils import timezone
    from django_scopes import scope

    from channels.clients.allegro import AllegroClient
    from channels.services.api import on_behalf
    from orders.allegro_form import parse_checkout_form
    from orders.ingest import allocate_order_numbers
    from orders.models import Order, OrderLine, OrderStatus, SystemStatus

    requests = 0
    imported = 0
    since = timezone.now() - dt.timedelta(days=days)
    with (
        scope(tenant=channel.tenant),
        _common.Stopwatch() as watch,
        _common.QueryCounter() as queries,
    ):
        new = OrderStatus.objects.get(system_code=SystemStatus.NEW)
        offset = 0
        while imported < limit:
            page = on_behalf(
                channel,
                AllegroClient.list_checkout_forms,
                bought_from=since,
                sort="lineItems.boughtAt",
                limit=100,
                offset=offset,
            )
            requests += 1
            ids = [f["id"] for f in page.checkout_forms]
            if not ids:
                break
            offset += len(ids)
            for form_id in ids[: limit - imported]:
                form = on_behalf(channel, AllegroClient.get_checkout_form, form_id)
                requests += 1
                parsed = parse_checkout_form(form)
                with transaction.atomic():
                    order = Order.objects.filter(channel=channel, external_id=parsed.external_id)
                    number = (
                        None
                        if order.exists()
                        else allocate_order_numbers(channel.tenant, channel.alias, 1)[0]
                    )
                    defaults = {
                        **parsed.columns(),
                        "allegro_status": parsed.allegro_status or "",
                        "bought_at": parsed.bought_at or timezone.now(),
                        "status": new,
                        "raw_form": form,
                    }
                    if number:
                        defaults.update(number=number, imported_at=timezone.now())
                    order, _ = Order.objects.update_or_create(
                        tenant=channel.tenant,
                        channel=channel,
                        external_id=parsed.external_id,
                        defaults=defaults,
                    )
                    for line in parsed.lines:
                        OrderLine.objects.update_or_create(
                            tenant=channel.tenant,
                            order=order,
                            external_id=line.external_id,
                            defaults={
                                "offer_id": line.offer_id,
                                "offer_name": line.offer_name,
                                "sku": line.sku,
                                "quantity": line.quantity,
                                "price": line.price,
                                "currency": line.currency,
                                "bought_at": line.bought_at,
                                "position": line.position,
                            },
                        )
                imported += 1
    return {
        "orders": imported,
        "seconds": round(watch.wall, 2),
        "orders_per_second": round(imported / watch.wall, 1),
        "allegro_requests": requests,
        "allegro_requests_per_order": round(requests / imported, 4),
        "sql_queries_per_order": round(len(queries) / imported, 3),
        "cpu_ms_per_order": round(watch.cpu * 1000 / imported, 3),
    }


def main() -> None:
    args = parse_args()
    _common.configure(
        args.database_url,
        args.redis_url,
        ALLEGRO_RATE_LIMIT_PER_MINUTE=10_000_000,
        SYNC_RECONCILE_GRACE_SECONDS=0,
    )
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    try:
        control = _common.sandbox_control(base_url)
        secret = _common.prepare_sandbox(control)
        control.set_rate_limit(client_id=_common.CLIENT_ID, limit=10_000_000)
        days = 10
        control.create_orders(
            _common.SELLER, args.orders, spread_seconds=days * 86400 - 3600, return_ids=False
        )
        ours_channel = _common.connected_channel(control, secret, slug="ours", alias="OU")
        naive_channel = _common.connected_channel(control, secret, slug="naive", alias="NA")
        ours = run_ours(ours_channel, days + 1)
        naive = naive_import(naive_channel, args.naive_orders, days + 1)
    finally:
        proc.terminate()
    result = {
        "benchmark": "backfill",
        "sandbox_orders": args.orders,
        "ours": ours,
        "naive_baseline": naive,
        "speedup_orders_per_second": round(
            ours["orders_per_second"] / naive["orders_per_second"], 1
        ),
        "allegro_requests_ratio": round(
            naive["allegro_requests_per_order"] / ours["allegro_requests_per_order"], 1
        ),
        "target": "speedup >= 5",
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
