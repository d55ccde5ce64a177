"""The product's row lock: changes of one product made at the same time by many processes
(an import, a seller by hand, another import) all count; none overwrites another."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_scopes import scope

from catalog.models import StockReason
from catalog.services.stock import change_stock
from tests.catalog.helpers_stock import changes_of, offer_of, product_of, pushes_of, send_stock
from tests.support.channels import channel_of

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 6
CHANGES = 10


def test_changes_at_the_same_time_all_count(tenant):
    channel = channel_of(tenant)
    send_stock(channel)
    product = product_of(tenant, stock=100)
    offer = offer_of(channel, "1001", product)
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            with scope(tenant=tenant):
                for i in range(CHANGES):
                    change_stock(
                        product_of_id(product.pk),
                        delta=-1,
                        reason=StockReason.SOLD,
                        dedupe_key=f"sold:{n}:{i}",
                    )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    changes = changes_of(product)
    assert len(changes) == THREADS * CHANGES
    # Each change saw the one before it: the stock after each is one less, none repeated.
    assert sorted(after for _r, _d, after, _k in changes) == list(range(40, 100))
    with scope(tenant=tenant):
        product.refresh_from_db()
    assert product.stock == 100 - THREADS * CHANGES
    [row] = pushes_of(offer)
    assert row.quantity == 40


def product_of_id(pk: int):
    from catalog.models import Product

    return Product.objects.get(pk=pk)
