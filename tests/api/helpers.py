"""Keys and orders for the API's tests."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.test import Client
from django_scopes import scope

from api import keys
from api.models import KeyScope
from core.models import Tenant
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order
from tests.support.channels import channel_of
from tests.support.orders import form_bought_at


def key_of(tenant: Tenant, scope_: str = KeyScope.READ_WRITE, **kw: Any) -> str:
    """A new key of the tenant; its secret."""
    with scope(tenant=tenant):
        return keys.create_key(
            tenant, name=f"Sklep {scope_}", scope=scope_, created_by=None, **kw
        ).secret


def api(secret: str | None, language: str = "en") -> Client:
    """A client of the API with this key, asking for answers in `language`."""
    headers = {"Accept-Language": language}
    if secret:
        headers["Authorization"] = f"Bearer {secret}"
    return Client(headers=headers)


def imported_order(
    tenant: Tenant,
    *,
    bought_at: dt.datetime,
    email: str = "kupujacy@example.com",
    login: str = "Kupujacy",
    alias: str = "AL",
) -> Order:
    """An order imported from a checkout form bought at `bought_at` by this buyer."""
    form = form_bought_at(bought_at)
    form["buyer"] = {**form["buyer"], "email": email, "login": login}
    channel = channel_of(tenant, alias, f"Allegro {alias}")
    result = upsert_order_from_checkout_form(channel, form)
    assert result.ok, result.error
    with scope(tenant=tenant):
        return Order.objects.select_related("status", "channel").get(pk=result.order_id)
