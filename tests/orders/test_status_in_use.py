"""A status that orders use cannot be deleted: the seller is told why and nothing changes."""

from __future__ import annotations

import pytest
from django.utils import timezone

from channels.models import SalesChannel
from orders.models import Order
from orders.statuses import StatusInUse, delete_status
from tests.factories import in_scope
from tests.orders.status_helpers import SEEDED, status_named, status_rows, statuses_url

pytestmark = pytest.mark.django_db

IN_USE = (
    "“Wysłane” is still used by orders: move them to another status first, or deactivate "
    "this one instead."
)


@pytest.fixture
def order_in_wyslane(tenant):
    now = timezone.now()
    with in_scope(tenant):
        channel = SalesChannel(
            tenant=tenant,
            name="Allegro",
            alias="AL",
            allegro_login="sklep-alfa",
            allegro_environment="local",
        )
        channel.save()
        order = Order(
            tenant=tenant,
            channel=channel,
            external_id="29f7ef30-d8ad-11ef-8a3d-5bd0c8e6a5f1",
            number="AL2611000001",
            status=status_named(tenant, "Wysłane"),
            allegro_status="READY_FOR_PROCESSING",
            bought_at=now,
            imported_at=now,
        )
        order.save()
    return order


def test_delete_status_refuses_a_status_orders_use(tenant, order_in_wyslane):
    with in_scope(tenant), pytest.raises(StatusInUse) as refused:
        delete_status(status_named(tenant, "Wysłane"))

    assert refused.value.message == IN_USE
    assert status_rows(tenant) == SEEDED
    with in_scope(tenant):
        assert list(Order.objects.values_list("pk", "status__name")) == [
            (order_in_wyslane.pk, "Wysłane")
        ]


def test_the_delete_button_explains_why_a_used_status_stays(
    client, tenant, admin_user, order_in_wyslane
):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(admin_user)

    response = client.post(
        statuses_url(tenant, "delete", status_named(tenant, "Wysłane")), follow=True
    )

    assert [str(message) for message in response.context["messages"]] == [IN_USE]
    assert status_rows(tenant) == SEEDED
