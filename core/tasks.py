"""Celery plumbing every app uses — ``TenantTask``, the base of every task of one tenant, and
``dispatch_after_commit``, the one way to enqueue a task from code that may be inside a
transaction — and the beat heartbeat job."""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import Task, current_app, shared_task
from django.db import transaction
from django_scopes import scope

from core.health import record_beat_heartbeat


class TenantTask(Task):
    """A task of one tenant (DESIGN §1, §3: tasks enter the tenant's scope themselves). Its
    first argument, or ``tenant_id=``, is the tenant's id, and its body runs inside that
    tenant's scope, so every scoped query is filtered to the tenant and a write of another
    tenant's row is refused.

    The id is the scope: no query for the tenant. A deleted tenant's rows went with it, so a
    task of a deleted tenant finds nothing to do."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        tenant_id = kwargs["tenant_id"] if "tenant_id" in kwargs else args[0]
        with scope(tenant=tenant_id):
            return super().__call__(*args, **kwargs)


def dispatch_after_commit(
    task: Task | str, *args: Any, countdown: float | None = None, **kwargs: Any
) -> None:
    """Enqueue ``task(*args, **kwargs)`` once the current transaction commits (at once outside
    a transaction; never if it rolls back), so a worker never runs before the rows it reads
    are visible (DESIGN §1: never ``.delay()`` inside an open transaction). ``task`` is a task
    or the name of a registered one (for services that the task's own module imports)."""
    if isinstance(task, str):
        if task not in current_app.tasks:
            # A web process imports an app's tasks module only when something imports it;
            # by name, load every app's tasks (Celery's autodiscovery) before looking it up.
            current_app.loader.import_default_modules()
        task = current_app.tasks[task]
    options: dict[str, Any] = {} if countdown is None else {"countdown": countdown}
    transaction.on_commit(partial(task.apply_async, args, kwargs, **options))


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled by beat, run by a worker: its timestamp proves both are alive."""
    record_beat_heartbeat()
