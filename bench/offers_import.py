"""Benchmark: import of 50 000 offers from allegro_sandbox, against a naive importer.

Ours: catalog.services.offers — a sweep of GET /sale/offers in pages of 1000, one
`INSERT … ON CONFLICT` per page, run in this process page after page as its Celery tasks would
(with the EAN reads of adr/0015 off, then on at their default of 50 per page, in two runs).
Baseline, same process, same sandbox: the naive importer — the same pages, then
`update_or_create` per offer. The naive importer runs on the first --naive-offers offers (default
10 000) and is compared by rate. Both go through the same client (token, rate limiter: raised for
the bench so neither is throttled).

Prints JSON: offers/s, Allegro requests per offer, SQL statements per offer, CPU ms per offer,
and the speed-up. Own database (--database-url, default apilo_bench_offers).

    .venv/bin/python bench/offers_import.py [--offers 50000] [--naive-offers 10000]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _common


class RequestCounter:
    """Counts the client's HTTP requests to the sandbox (the API's, not the token endpoint's)."""

    def __init__(self) -> None:
        self.count = 0

    def __enter__(self) -> RequestCounter:
        from channels.clients.allegro import AllegroClient

        self._original = AllegroClient._send
        counter = self

        def send(client, method, url, **kwargs):
            if kwargs.get("kind") == "api":
                counter.count += 1
            return counter._original(client, method, url, **kwargs)

        AllegroClient._send = send  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc) -> None:
        from channels.clients.allegro import AllegroClient

        AllegroClient._send = self._original  # type: ignore[method-assign]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--offers", type=int, default=50_000)
    parser.add_argument("--naive-offers", type=int, default=10_000)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/apilo_bench_offers"
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/7")
    return parser.parse_args()


def _figures(offers: int, watch, queries, requests) -> dict:
    return {
        "offers": offers,
        "seconds": round(watch.wall, 2),
        "offers_per_second": round(offers / watch.wall, 1),
        "allegro_requests": requests.count,
        "allegro_requests_per_offer": round(requests.count / offers, 4),
        "sql_statements_per_offer": round(len(queries) / offers, 4),
        "cpu_ms_per_offer": round(watch.cpu * 1000 / offers, 3),
    }


def run_ours(channel, ean_reads: int) -> dict:
    from django.conf import settings
    from django_scopes import scope

    from catalog.models import ChannelCatalogState, Offer, SweepReason
    from catalog.services import offers

    settings.CATALOG_OFFER_EAN_READS_PER_PAGE = ean_reads
    with scope(tenant=channel.tenant):
        offers.start_offer_sweep(channel, SweepReason.MANUAL)
        run = ChannelCatalogState.objects.get(channel=channel).sweep_run
        with (
            _common.Stopwatch() as watch,
            _common.QueryCounter() as queries,
            RequestCounter() as requests,
        ):
            while offers.sweep_page(channel.pk, run).again:
                pass
        stored = Offer.objects.filter(channel=channel).count()
        state = ChannelCatalogState.objects.get(channel=channel)
        with_ean = Offer.objects.filter(channel=channel).exclude(ean="").count()
    return {
        **_figures(stored, watch, queries, requests),
        "sweep_state": state.sweep_state,
        "ean_reads_per_page": ean_reads,
        "offers_with_ean": with_ean,
    }


def naive_import(channel, limit: int) -> dict:
    """The same listing pages; per offer `update_or_create`."""
    from django.utils import timezone
    from django_scopes import scope

    from catalog.models import Offer
    from channels.clients.allegro import AllegroClient
    from channels.services.api import on_behalf

    imported = 0
    with (
        scope(tenant=channel.tenant),
        _common.Stopwatch() as watch,
        _common.QueryCounter() as queries,
        RequestCounter() as requests,
    ):
        offset = 0
        while imported < limit:
            page = on_behalf(channel, AllegroClient.list_offers, offset=offset, limit=1000)
            if not page.offers:
                break
            offset += page.received
            for offer in page.offers[: limit - imported]:
                now = timezone.now()
                Offer.objects.update_or_create(
                    tenant=channel.tenant,
                    channel=channel,
                    external_id=offer.id,
                    defaults={
                        "name": offer.name,
                        "status": offer.status,
                        "price": offer.price,
                        "currency": offer.currency,
                        "stock_available": offer.stock_available,
                        "sku": offer.sku,
                        "category_id": offer.category_id,
                        "image_url": offer.image_url,
                        "last_seen_at": now,
                        "updated_at": now,
                    },
                )
                imported += 1
    return _figures(imported, watch, queries, requests)


def main() -> None:
    args = parse_args()
    _common.configure(args.database_url, args.redis_url, ALLEGRO_RATE_LIMIT_PER_MINUTE=10_000_000)
    _common.setup_django(args.database_url)
    proc, base_url = _common.start_sandbox()
    try:
        control = _common.sandbox_control(base_url)
        secret = _common.prepare_sandbox(control, offers=0)
        control.set_rate_limit(client_id=_common.CLIENT_ID, limit=10_000_000)
        control.create_offers(_common.SELLER, args.offers)
        ours_channel = _common.connected_channel(control, secret, slug="ours", alias="OU")
        ean_channel = _common.connected_channel(control, secret, slug="ean", alias="EA")
        naive_channel = _common.connected_channel(control, secret, slug="naive", alias="NA")
        ours = run_ours(ours_channel, ean_reads=0)
        with_ean = run_ours(ean_channel, ean_reads=50)
        naive = naive_import(naive_channel, args.naive_offers)
    finally:
        proc.terminate()
    result = {
        "benchmark": "offers_import",
        "sandbox_offers": args.offers,
        "ours": ours,
        "ours_with_ean_reads": with_ean,
        "naive_baseline": naive,
        "speedup_offers_per_second": round(
            ours["offers_per_second"] / naive["offers_per_second"], 1
        ),
        "sql_statements_ratio": round(
            naive["sql_statements_per_offer"] / ours["sql_statements_per_offer"], 1
        ),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
