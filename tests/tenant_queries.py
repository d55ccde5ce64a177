"""The Citus check: every query the application sends to a table distributed by tenant names
its tenant (docs/operations/scale.md).

``pytest --tenant-query-log`` runs the tenant isolation tests (files named ``*isolation*.py``
and tests whose name speaks of isolation or of another tenant) with a recorder on the database
connection (``connection.execute_wrapper``). Every SELECT, UPDATE and DELETE the application
sends (a frame of one of the apps on the stack; the tests' own set-up is not the application)
is checked against the distributed tables — the tables of every ``TenantOwnedModel``, read from
the models — and a statement fails when one of those tables in it is neither filtered by its
``tenant_id`` (``= value``, ``IN (…)``, ``= ANY(…)``) nor joined on ``tenant_id`` to a table
that is. On Citus such a statement is sent to every shard (a lone table) or refused (a join not
on the distribution column, or a row lock across shards). A failing statement fails its test,
with the place in the application that sent it; ``--tenant-query-report=FILE`` also writes
every failure as JSON. ``--tenant-query-log=all`` checks every test of the run, not only the
isolation tests. ``make citus-check`` runs it.

Only the test's own thread is recorded: statements of a live server's thread or of a Celery
worker the test starts are not seen.

The reading of a statement is a careful regular expression over the SQL Django writes (quoted
names, aliases such as ``U0`` or ``T3``) and our few raw statements; it does not evaluate ORs,
so a tenant filter inside an OR still counts as one.
"""

from __future__ import annotations

import json
import re
import sys
import traceback
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

APP_PACKAGES = ("core", "channels", "orders", "sync", "fulfillment", "notifications", "api")
ISOLATION_WORDS = ("isolation", "cross_tenant", "other_tenant", "another_tenant")

KEYWORDS = {
    "where",
    "inner",
    "left",
    "right",
    "full",
    "cross",
    "outer",
    "join",
    "on",
    "set",
    "group",
    "order",
    "limit",
    "offset",
    "for",
    "using",
    "returning",
    "having",
    "union",
    "window",
    "as",
    "natural",
    "lateral",
}
_NAME = r'"?(\w+)"?'
_OCCURRENCE = re.compile(
    r"\b(?:FROM|JOIN|UPDATE)\s+" + _NAME + r"(?!\s*\.)(?:\s+(?:AS\s+)?" + _NAME + r")?",
    re.IGNORECASE,
)
_COLUMN = r'(?:"?(\w+)"?\s*\.\s*)?"?tenant_id"?'
_FILTER = re.compile(
    _COLUMN + r"\s*(?:=|IN\b|=\s*ANY\b)\s*(?:\(\s*)*(?:%s|\d+|'[^']*')", re.IGNORECASE
)
_REVERSED_FILTER = re.compile(r"(?:%s|\d+)\s*=\s*" + _COLUMN, re.IGNORECASE)
_TENANT_JOIN = re.compile(_COLUMN + r"\s*=\s*" + _COLUMN, re.IGNORECASE)


@dataclass(frozen=True)
class Failure:
    """One table of one statement that does not name its tenant."""

    kind: str  # "fan_out", "fan_out_for_update" or "join_without_tenant"
    table: str
    sql: str
    origin: str  # the application's frame that sent it: "orders/changes.py:155 in change_x"
    test: str = ""

    def __str__(self) -> str:
        return f"{self.kind} on {self.table} from {self.origin}:\n    {self.sql}"


def statement_kind(sql: str) -> str:
    """The statement's first keyword, upper case ("SELECT", "UPDATE", …); WITH counts as the
    statement it leads to."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL).strip().lstrip("(")
    word = text.split(None, 1)[0].upper() if text else ""
    if word == "WITH":
        found = re.search(r"\)\s*(SELECT|UPDATE|DELETE|INSERT)\b", text, re.IGNORECASE)
        return found.group(1).upper() if found else "SELECT"
    return word


def occurrences(sql: str, tables: frozenset[str]) -> list[tuple[str, str]]:
    """(table, alias) of every distributed table the statement reads or writes."""
    out = []
    for match in _OCCURRENCE.finditer(sql):
        table, alias = match.group(1), match.group(2)
        if table.lower() not in tables:
            continue
        if alias is None or alias.lower() in KEYWORDS:
            alias = table
        out.append((table.lower(), alias.lower()))
    return out


def unfiltered(sql: str, tables: frozenset[str]) -> list[tuple[str, str]]:
    """The distributed tables of a SELECT/UPDATE/DELETE whose rows are not limited to one
    tenant: (kind, table). Empty for other statements and for statements that name the tenant
    of every distributed table in them."""
    if statement_kind(sql) not in {"SELECT", "UPDATE", "DELETE"}:
        return []
    found = occurrences(sql, tables)
    if not found:
        return []
    aliases = {alias for _table, alias in found}
    only = next(iter(aliases)) if len(aliases) == 1 else None

    def owner(qualifier: str | None) -> str | None:
        return qualifier.lower() if qualifier else only

    filtered = {owner(m.group(1)) for m in _FILTER.finditer(sql)}
    filtered |= {owner(m.group(1)) for m in _REVERSED_FILTER.finditer(sql)}
    links = [(owner(m.group(1)), owner(m.group(2))) for m in _TENANT_JOIN.finditer(sql)]
    changed = True
    while changed:
        changed = False
        for left, right in links:
            if (left in filtered) != (right in filtered):
                filtered |= {left, right}
                changed = True
    missing = [(table, alias) for table, alias in found if alias not in filtered]
    if not missing:
        return []
    if len(found) > 1:
        kind = "join_without_tenant"
    elif re.search(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", sql, re.IGNORECASE):
        kind = "fan_out_for_update"
    else:
        kind = "fan_out"
    return [(kind, table) for table, _alias in dict.fromkeys(missing)]


def distributed_tables() -> frozenset[str]:
    """The tables of every tenant-owned model: what Citus distributes by ``tenant_id``."""
    from django.apps import apps

    from core.models import TenantOwnedModel

    return frozenset(
        model._meta.db_table.lower()
        for model in apps.get_models()
        if issubclass(model, TenantOwnedModel) and not model._meta.proxy
    )


def application_frame() -> str | None:
    """The innermost frame of the application on the stack ("path:line in function")."""
    root = Path(__file__).resolve().parent.parent
    for frame in reversed(traceback.extract_stack()):
        path = Path(frame.filename)
        try:
            relative = path.resolve().relative_to(root)
        except ValueError:
            continue
        if relative.parts and relative.parts[0] in APP_PACKAGES:
            return f"{relative}:{frame.lineno} in {frame.name}"
    return None


class Recorder:
    """``connection.execute_wrapper`` callable: checks each statement the application sends."""

    def __init__(self, tables: frozenset[str]) -> None:
        self.tables = tables
        self.failures: list[Failure] = []
        self.checked = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.record(sql)
        return execute(sql, params, many, context)

    def record(self, sql: str) -> None:
        if statement_kind(sql) not in {"SELECT", "UPDATE", "DELETE"}:
            return
        origin = application_frame()
        if origin is None:
            return
        self.checked += 1
        for kind, table in unfiltered(sql, self.tables):
            self.failures.append(Failure(kind, table, " ".join(sql.split()), origin))


def _wanted(item: pytest.Item, mode: str) -> bool:
    if mode == "all":
        return True
    name = f"{Path(str(item.fspath)).name} {item.name}".lower()
    return any(word in name for word in ISOLATION_WORDS)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("apilo").addoption(
        "--tenant-query-log",
        nargs="?",
        const="isolation",
        default=None,
        choices=["isolation", "all"],
        help="check that every query on a tenant-distributed table filters by tenant_id "
        "(isolation tests only, or all)",
    )
    parser.getgroup("apilo").addoption(
        "--tenant-query-report",
        default=None,
        help="with --tenant-query-log: write the failing statements to this JSON file",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    mode = config.getoption("--tenant-query-log")
    if not mode:
        return
    kept = [item for item in items if _wanted(item, mode)]
    deselected = [item for item in items if not _wanted(item, mode)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
    items[:] = kept


_SEEN: list[Failure] = []
_CHECKED: list[int] = []


@pytest.fixture(autouse=True)
def _tenant_query_log(request: pytest.FixtureRequest) -> Iterator[None]:
    if not request.config.getoption("--tenant-query-log"):
        yield
        return
    from django.db import connection

    recorder = Recorder(distributed_tables())
    with connection.execute_wrapper(recorder):
        yield
    _CHECKED.append(recorder.checked)
    failures = [Failure(**{**asdict(f), "test": request.node.nodeid}) for f in recorder.failures]
    _SEEN.extend(failures)
    if failures:
        unique = list(dict.fromkeys(str(f) for f in failures))
        pytest.fail(
            f"{len(unique)} statement(s) on tables distributed by tenant without their tenant:\n"
            + "\n".join(unique),
            pytrace=False,
        )


def summary(failures: list[Failure]) -> dict[str, Any]:
    """The failures grouped by where they come from: what the move to Citus has to change."""
    by_origin: dict[tuple[str, str, str], set[str]] = {}
    for failure in failures:
        by_origin.setdefault((failure.origin, failure.kind, failure.table), set()).add(failure.sql)
    return {
        "failing_statements": len({(f.origin, f.sql) for f in failures}),
        "by_kind": dict(Counter(f.kind for f in {(f.origin, f.sql): f for f in failures}.values())),
        "places": [
            {"origin": origin, "kind": kind, "table": table, "statements": sorted(sqls)}
            for (origin, kind, table), sqls in sorted(by_origin.items())
        ],
    }


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("--tenant-query-log"):
        return
    report = summary(_SEEN)
    writer = terminalreporter
    writer.section("tenant query log")
    writer.line(
        f"{sum(_CHECKED)} application statements checked in {len(_CHECKED)} tests; "
        f"{report['failing_statements']} without their tenant {report['by_kind']}"
    )
    for place in report["places"]:
        writer.line(f"  {place['kind']:<22} {place['table']:<32} {place['origin']}")
    path = config.getoption("--tenant-query-report")
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(report, indent=2) + "\n")
        writer.line(f"written to {path}")
    sys.stdout.flush()
