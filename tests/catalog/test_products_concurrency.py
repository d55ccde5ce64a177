"""The lock between an import linking its order lines and the offers' linking: an offer linked
while an import of its orders is open either is seen linked by the import or finds the
import's lines once it commits. Without the import's lock on the offers (FOR NO KEY UPDATE in
link_order_lines) the linking misses the uncommitted lines and they stay without a product."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection, connections, transaction
from django_scopes import scope

from catalog.services.linking import link_offers
from tests.catalog import helpers_products
from tests.catalog.helpers_products import form_selling, import_forms, line_links, offer, product

pytestmark = pytest.mark.django_db(transaction=True)

channel = helpers_products.channel


def _waiting_for_a_lock() -> bool:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0] > 0


def test_an_offer_linked_during_an_import_of_its_orders_links_their_lines(tenant, channel):
    mug = product(tenant, "Kubek", sku="KUB-1")
    # Stored by the offers' importer, not linked yet; the order's line has no SKU of its own.
    sold = offer(channel, "4242", sku="KUB-1")
    imported, commit = threading.Event(), threading.Event()
    orders = []
    errors: list[BaseException] = []

    def import_orders():
        try:
            with transaction.atomic():
                orders.extend(import_forms(channel, form_selling(("4242", "", 1))))
                imported.set()
                commit.wait(10)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    def link():
        try:
            imported.wait(10)
            with scope(tenant=tenant):
                link_offers(tenant.pk, [sold.pk])
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    importer, linker = threading.Thread(target=import_orders), threading.Thread(target=link)
    importer.start()
    linker.start()
    deadline = time.monotonic() + 10
    while linker.is_alive() and not _waiting_for_a_lock() and time.monotonic() < deadline:
        time.sleep(0.02)
    commit.set()
    importer.join()
    linker.join()
    assert errors == []
    assert line_links(orders[0]) == [("4242", sold.pk, mug.pk)]
