"""Named locks shared by every process of the deployment, and the one place their keys are made.

``lock_name(area, tenant_id, *ids)`` builds every name, so each carries the tenant id (e.g.
"apilo:fulfillment:push:<tenant>:<order>"); ``advisory_id`` turns a name into PostgreSQL's key.

``try_lock`` / ``try_locks`` do not wait. On PostgreSQL: a session-level advisory lock, released
on exit or by PostgreSQL when a killed worker's connection goes away. Elsewhere (SQLite in
development): a cache key with a time to live, so a killed process cannot keep the name locked
for longer than that.

``lock_until_commit`` waits for the name and holds it until the caller's transaction ends (a
transaction-level advisory lock). Off PostgreSQL it takes nothing: SQLite serialises writers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.core.cache import cache
from django.db import connection

CACHE_LOCK_TTL_SECONDS = 300


def lock_name(area: str, tenant_id: int, *ids: int) -> str:
    """The name of a lock on something of one tenant: "apilo:<area>:<tenant>:<id>:…"."""
    return ":".join(["apilo", area, str(int(tenant_id)), *(str(int(i)) for i in ids)])


def advisory_id(name: str) -> int:
    """A stable signed 64-bit id of the name (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def lock_until_commit(name: str) -> None:
    """Wait for the named lock and hold it until the current transaction commits or rolls back.
    Call it inside ``transaction.atomic()``; it excludes ``try_lock`` holders of the same name."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [advisory_id(name)])


@contextmanager
def try_lock(name: str) -> Iterator[bool]:
    """Hold the named lock while the block runs; yields False at once if someone holds it."""
    with try_locks([name]) as acquired:
        yield name in acquired


@contextmanager
def try_locks(names: list[str], *, at_most: int | None = None) -> Iterator[set[str]]:
    """``try_lock`` for many names at once (one statement on PostgreSQL): yields the names this
    process got; the others are held by someone else. ``at_most``: stop after that many, taking
    the names in the order given (workers competing for a backlog then split it instead of one
    taking all of it). All are released on exit."""
    names = list(dict.fromkeys(names))
    limit = len(names) if at_most is None else max(0, at_most)
    if not names or not limit:
        yield set()
        return
    if connection.vendor == "postgresql":
        ids = {advisory_id(name): name for name in names}
        with connection.cursor() as cursor:
            # Rows are tried in the array's order and the scan stops at the limit, so no lock is
            # taken beyond it.
            cursor.execute(
                "SELECT k FROM unnest(%s::bigint[]) WITH ORDINALITY AS t(k, n) "
                "WHERE pg_try_advisory_lock(k) LIMIT %s",
                [list(ids), limit],
            )
            acquired = [row[0] for row in cursor.fetchall()]
        try:
            yield {ids[lock_id] for lock_id in acquired}
        finally:
            if acquired:
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_unlock(k) FROM unnest(%s::bigint[]) AS k", [acquired]
                    )
        return
    got: set[str] = set()
    for name in names:
        if len(got) >= limit:
            break
        if cache.add(f"lock:{name}", "1", timeout=CACHE_LOCK_TTL_SECONDS):
            got.add(name)
    try:
        yield got
    finally:
        cache.delete_many([f"lock:{name}" for name in got])
