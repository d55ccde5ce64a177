import pytest
from django_scopes import ScopeError, scope, scopes_disabled

from core.models import CrossTenantWrite
from orders.models import OrderStatus, StatusGroup

pytestmark = pytest.mark.django_db


def _status(tenant, name="Pakowanie"):
    return OrderStatus(tenant=tenant, name=name, group=StatusGroup.IN_PROGRESS, colour="#112233")


def test_saving_a_row_of_tenant_b_inside_tenant_a_scope_fails(tenant, other_tenant):
    with scope(tenant=tenant), pytest.raises(CrossTenantWrite):
        _status(other_tenant).save()
    with scopes_disabled():
        assert not OrderStatus.objects.filter(name="Pakowanie").exists()


def test_updating_and_deleting_another_tenants_row_fails(tenant, other_tenant):
    with scope(tenant=other_tenant):
        theirs = OrderStatus.objects.get(system_code="in_progress")
    with scope(tenant=tenant):
        theirs.name = "Przejęte"
        with pytest.raises(CrossTenantWrite):
            theirs.save()
        with pytest.raises(CrossTenantWrite):
            theirs.delete()
    with scope(tenant=other_tenant):
        assert OrderStatus.objects.get(pk=theirs.pk).name == "W realizacji"


def test_writing_outside_any_scope_fails(tenant):
    with pytest.raises(CrossTenantWrite):
        _status(tenant).save()


def test_writing_in_own_scope_and_with_scopes_disabled_works(tenant):
    with scope(tenant=tenant):
        _status(tenant, "Pakowanie").save()
        assert OrderStatus.objects.filter(name="Pakowanie").count() == 1
    with scopes_disabled():
        _status(tenant, "Kompletowanie").save()
        assert OrderStatus.objects.filter(tenant=tenant, name="Kompletowanie").count() == 1


def test_reading_without_a_scope_fails_closed(tenant):
    with pytest.raises(ScopeError):
        list(OrderStatus.objects.all())
