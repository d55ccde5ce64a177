"""The Citus check itself (tests/tenant_queries.py): it fails a statement on a tenant-distributed
table that does not name its tenant, and passes the ones that do."""

from __future__ import annotations

import pytest
from django.db import connection
from django_scopes import scope, scopes_disabled

from api.keys import PREFIX, key_for_secret
from orders.models import Order, OrderLine, OrderStatus
from tests.tenant_queries import Recorder, distributed_tables, statement_kind, unfiltered

TABLES = distributed_tables()


def sql_of(queryset) -> str:
    return queryset.query.sql_with_params()[0]


def test_the_distributed_tables_are_every_tenant_owned_model_and_nothing_else():
    assert {"orders_order", "orders_orderline", "channels_saleschannel", "api_apikey"} <= TABLES
    assert not {"core_tenant", "auth_user", "core_membership", "django_session"} & TABLES


@pytest.mark.django_db
def test_a_query_without_its_tenant_fails_and_the_same_query_with_it_passes():
    with scopes_disabled():
        without = sql_of(Order.objects.filter(pk=1))
        with_tenant = sql_of(Order.objects.filter(tenant_id=7, pk=1))
    assert unfiltered(without, TABLES) == [("fan_out", "orders_order")]
    assert unfiltered(with_tenant, TABLES) == []


@pytest.mark.django_db
def test_the_scoped_manager_names_the_tenant(tenant):
    with scope(tenant=tenant):
        assert unfiltered(sql_of(Order.objects.filter(pk=1)), TABLES) == []


@pytest.mark.django_db
def test_a_join_must_carry_the_tenant_to_every_distributed_table():
    with scopes_disabled():
        join = sql_of(OrderLine.objects.filter(tenant_id=7, order__number="X-1"))
    # The ORM joins on order_id only: the order's shard is not pinned to the tenant.
    assert unfiltered(join, TABLES) == [("join_without_tenant", "orders_order")]
    carried = (
        'SELECT "orders_orderline"."id" FROM "orders_orderline" INNER JOIN "orders_order" '
        'ON ("orders_orderline"."order_id" = "orders_order"."id" AND '
        '"orders_orderline"."tenant_id" = "orders_order"."tenant_id") '
        'WHERE "orders_orderline"."tenant_id" = %s'
    )
    assert unfiltered(carried, TABLES) == []


def test_subqueries_aliases_and_raw_statements():
    subquery = (
        'UPDATE "orders_order" SET "note" = %s WHERE "orders_order"."id" IN '
        '(SELECT U0."id" FROM "orders_order" U0 WHERE U0."tenant_id" = %s)'
    )
    assert unfiltered(subquery, TABLES) == [("join_without_tenant", "orders_order")]
    locked = (
        'SELECT "orders_order"."id" FROM "orders_order" WHERE "orders_order"."id" = %s FOR UPDATE'
    )
    assert unfiltered(locked, TABLES) == [("fan_out_for_update", "orders_order")]
    raw = "DELETE FROM orders_orderstatuscount WHERE tenant_id = %s AND status_id = ANY(%s)"
    assert unfiltered(raw, TABLES) == []
    in_list = (
        'SELECT "api_apikey"."id" FROM "api_apikey" WHERE "api_apikey"."tenant_id" IN (%s, %s)'
    )
    assert unfiltered(in_list, TABLES) == []
    assert unfiltered('SELECT "core_tenant"."id" FROM "core_tenant"', TABLES) == []
    assert unfiltered('INSERT INTO "orders_order" ("number") VALUES (%s)', TABLES) == []
    assert statement_kind("WITH x AS (SELECT 1) UPDATE t SET a = 1") == "UPDATE"


@pytest.mark.django_db
def test_the_recorder_fails_what_the_application_sends_without_the_tenant(tenant):
    recorder = Recorder(TABLES)
    with connection.execute_wrapper(recorder):
        with scopes_disabled():
            list(Order.objects.filter(pk=1))  # the test's own query: not the application's
        assert recorder.checked == 0
        # An API key is found by its secret before its tenant is known: every shard.
        key_for_secret(PREFIX + "x" * 40)
    assert recorder.checked == 1
    [failure] = recorder.failures
    assert (failure.kind, failure.table) == ("fan_out", "api_apikey")
    assert failure.origin.startswith("api/keys.py:")
    assert failure.origin.endswith(" in key_for_secret")


@pytest.mark.django_db
def test_saving_a_tenant_owned_row_updates_it_on_its_tenants_shard(tenant):
    with scope(tenant=tenant):
        status = OrderStatus.objects.filter(tenant=tenant).order_by("pk").first()
        recorder = Recorder(TABLES)
        with connection.execute_wrapper(recorder):
            status.name = "Nowe (zmienione)"
            status.save(update_fields=["name"])
    assert recorder.checked == 1
    assert recorder.failures == []
