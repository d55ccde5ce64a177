import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_new_tenant_gets_the_seven_default_statuses(tenant):
    from orders.models import OrderStatus
    from tests.factories import in_scope

    with in_scope(tenant):
        names = list(OrderStatus.objects.values_list("name", "system_code", "locked"))
    assert names == [
        ("Niepotwierdzone", "unconfirmed", True),
        ("Nowe", "new", True),
        ("W realizacji", "in_progress", False),
        ("Do wysłania", "ready_to_ship", False),
        ("Wysłane", "sent", False),
        ("Anulowane", "cancelled", True),
        ("Zwrócone", "returned", False),
    ]


def test_tenant_home_for_member(client, tenant, admin_user):
    client.force_login(admin_user)
    response = client.get(reverse("tenant_home", args=[tenant.slug]))
    assert response.status_code == 200
    assert "Sklep Alfa" in response.content.decode()
