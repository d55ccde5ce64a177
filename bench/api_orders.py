"""Benchmark: the orders list through the REST API at scale (GET /api/v1/orders/).

Builds the data as bench/order_list.py does (--orders orders in one tenant, INSERT … SELECT with
the secondary indexes dropped during the load; the event feed's commit trigger is switched off
for the load and the feed numbered after it, as migration api 0004 does), then measures the
server time (Django test Client with a Bearer key: middleware, authentication, rate limit,
view, serializer, JSON) and SQL queries of:

- the first page, a page in the middle and the last page reached by the API's keyset cursor,
  the filters integrators use (status, payment status, channel, buyer e-mail, login, number,
  external id, a bought-at day, updated since), the order detail, and the event feed's first
  and deepest page;
- the baseline in the same run: the same middle and last pages by LIMIT/OFFSET, serialised the
  same way (the query and the serializer, without the request around them).

Prints JSON: p50/p95 in milliseconds and SQL queries per page. Its own database
(--database-url, default postgres://postgres@127.0.0.1:5432/apilo_bench_api); --reuse keeps a
filled one.

    .venv/bin/python bench/api_orders.py --orders 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import order_list  # noqa: E402  (the data builder of the page benchmark)

FEED_TRIGGER = "api_feed_position"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--other-tenants", type=int, default=20)
    parser.add_argument("--other-orders", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_api"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--reuse", action="store_true", help="keep an already filled database")
    return parser.parse_args()


def build(args: argparse.Namespace) -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE orders_orderevent DISABLE TRIGGER {FEED_TRIGGER}")
    timings = order_list.build(args)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO api_feedentry (tenant_id, position, event_id)
            SELECT tenant_id, row_number() OVER (PARTITION BY tenant_id ORDER BY id), id
            FROM orders_orderevent
            """
        )
        cursor.execute(
            "INSERT INTO api_feedcounter (tenant_id, last) "
            "SELECT tenant_id, max(position) FROM api_feedentry GROUP BY tenant_id"
        )
        cursor.execute(f"ALTER TABLE orders_orderevent ENABLE TRIGGER {FEED_TRIGGER}")
        cursor.execute("VACUUM (ANALYZE) api_feedentry")
    timings["number_feed_s"] = round(time.perf_counter() - started, 1)
    return timings


def run(args: argparse.Namespace) -> dict:
    from django.test import Client
    from django.urls import reverse
    from django_scopes import scope

    from api import keys
    from api.models import FeedEntry
    from api.serializers import OrderListSerializer
    from core.models import Tenant
    from orders import queries
    from orders.models import Order, OrderStatus

    tenant = Tenant.objects.get(slug="sklep-0")
    with scope(tenant=tenant):
        secret = keys.create_key(
            tenant, name="bench", scope="read", created_by=None, rate_limit=10**9
        ).secret
        everything = Order.objects.filter(tenant=tenant)
        total = everything.count()
        ordered = everything.order_by("-bought_at", "-id")
        depth = total // 2
        middle = ordered.only("id", "bought_at")[depth]
        last_depth = max(0, total - 50)
        last = ordered.only("id", "bought_at")[last_depth]
        mid_cursor = queries.Cursor(queries.Sort.BOUGHT_DESC, middle.bought_at, middle.pk)
        last_cursor = queries.Cursor(queries.Sort.BOUGHT_DESC, last.bought_at, last.pk)
        sample = ordered.only("id", "number", "buyer_email", "buyer_login", "external_id")[
            depth // 3
        ]
        sent = OrderStatus.objects.get(tenant=tenant, system_code="sent")
        channel_id = everything.values_list("channel_id", flat=True).first()
        day = middle.bought_at.date().isoformat()
        last_position = FeedEntry.objects.filter(tenant=tenant).order_by("-position").first()
        deep_feed = (last_position.position - 100) if last_position else 0

    client = Client(headers={"Authorization": f"Bearer {secret}", "Accept-Language": "pl"})
    url = reverse("api:orders")

    def page(**params):
        return lambda: client.get(url + "?" + urlencode(params))

    pages = {
        "first_page": page(),
        "middle_page_keyset": page(cursor=mid_cursor.encode()),
        "last_page_keyset": page(cursor=last_cursor.encode()),
        "filter_status_sent": page(status=sent.pk),
        "filter_status_sent_middle": page(status=sent.pk, cursor=mid_cursor.encode()),
        "filter_payment_status": page(payment_status="partial"),
        "filter_channel": page(channel=channel_id),
        "filter_buyer_email": page(buyer_email=sample.buyer_email),
        "filter_buyer_login": page(buyer_login=sample.buyer_login),
        "filter_number": page(number=sample.number),
        "filter_external_id": page(external_id=sample.external_id),
        "filter_bought_one_day": page(bought_from=f"{day}T00:00:00Z", bought_to=f"{day}T23:59:59Z"),
        "filter_limit_200": page(limit=200),
        "order_detail": lambda: client.get(reverse("api:order", args=[sample.pk])),
        "event_feed_first": lambda: client.get(reverse("api:events")),
        "event_feed_deep": lambda: client.get(reverse("api:events") + f"?from={deep_feed}"),
    }
    results = {name: order_list.measure(name, call, args.repeat) for name, call in pages.items()}

    with scope(tenant=tenant):
        qs = Order.objects.filter(tenant=tenant)

        def keyset(cursor):
            return lambda: (
                OrderListSerializer(
                    queries.page_of(qs, queries.Sort.BOUGHT_DESC, cursor).orders, many=True
                ).data
            )

        def offset(at):
            return lambda: (
                OrderListSerializer(
                    queries.offset_page(qs, queries.Sort.BOUGHT_DESC, at), many=True
                ).data
            )

        slow_repeat = max(5, args.repeat // 4)
        baseline = {
            "middle_page_keyset_query_and_serializer": order_list.measure(
                "k", keyset(mid_cursor), args.repeat
            ),
            "middle_page_offset_query_and_serializer": order_list.measure(
                "o", offset(depth), slow_repeat
            ),
            "last_page_keyset_query_and_serializer": order_list.measure(
                "k", keyset(last_cursor), args.repeat
            ),
            "last_page_offset_query_and_serializer": order_list.measure(
                "o", offset(last_depth), slow_repeat
            ),
        }
    return {
        "orders_in_tenant": total,
        "middle_depth": depth,
        "pages": results,
        "baseline": baseline,
    }


def main() -> None:
    args = parse_args()
    if not args.reuse:
        order_list.recreate_database(args.database_url)
    order_list.setup_django(args)
    report: dict = {"orders": args.orders, "other_tenants": args.other_tenants}
    if not args.reuse:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        report["build"] = build(args)
    report.update(run(args))
    target = {"p95_ms": 150, "queries": 10}
    report["target"] = target
    report["meets_target"] = all(
        r["p95_ms"] <= target["p95_ms"] and r["queries"] <= target["queries"]
        for r in report["pages"].values()
    )
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
