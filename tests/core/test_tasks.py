"""core.tasks: a TenantTask runs inside the scope of the tenant it is given, and
dispatch_after_commit enqueues a task only once the transaction has committed (never if it
rolls back)."""

from __future__ import annotations

import pytest
from celery import shared_task
from django.db import transaction
from django_scopes import ScopeError, get_scope

from apilo.celery import app
from channels.models import SalesChannel
from core.tasks import TenantTask, dispatch_after_commit
from tests.factories import TenantFactory

ran: list[object] = []


@shared_task(base=TenantTask, name="tests.core.channels_seen")
def channels_seen(tenant_id: int) -> list[str]:
    """The names of the channels this task can read, and the scope it ran in."""
    ran.append(get_scope().get("tenant"))
    return list(SalesChannel.objects.order_by("name").values_list("name", flat=True))


@shared_task(name="tests.core.remember")
def remember(value: int, *, twice: bool = False) -> None:
    ran.extend([value] * (2 if twice else 1))


@pytest.fixture(autouse=True)
def _fresh_runs():
    ran.clear()
    yield
    ran.clear()


@pytest.fixture
def eager():
    """Tasks run in this process when sent, so the test sees when they are sent."""
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = False


@pytest.mark.django_db
def test_a_tenant_task_reads_its_tenant_only(tenant, other_tenant):
    from tests.support.channels import channel_of

    channel_of(tenant, "AL", "Alfa Allegro")
    channel_of(other_tenant, "BE", "Beta Allegro")

    assert channels_seen(tenant.pk) == ["Alfa Allegro"]
    assert channels_seen(tenant_id=other_tenant.pk) == ["Beta Allegro"]
    assert ran == [tenant.pk, other_tenant.pk]
    # Outside any task, the same read is refused: the scope came from the task.
    with pytest.raises(ScopeError):
        list(SalesChannel.objects.all())


@pytest.mark.django_db
def test_a_tenant_task_of_a_deleted_tenant_finds_nothing(tenant):
    gone = TenantFactory()
    gone_id = gone.pk
    gone.delete()
    assert channels_seen(gone_id) == []


@pytest.mark.django_db(transaction=True)
def test_a_task_dispatched_in_a_transaction_waits_for_the_commit(eager):
    with transaction.atomic():
        dispatch_after_commit(remember, 1)
        dispatch_after_commit("tests.core.remember", 2, twice=True, countdown=5)
        assert ran == []

    assert ran == [1, 2, 2]


@pytest.mark.django_db(transaction=True)
def test_a_task_dispatched_in_a_rolled_back_transaction_never_runs(eager):
    with pytest.raises(RuntimeError), transaction.atomic():
        dispatch_after_commit(remember, 1)
        raise RuntimeError("the write failed")

    assert ran == []
    dispatch_after_commit(remember, 3)  # outside a transaction: at once
    assert ran == [3]
