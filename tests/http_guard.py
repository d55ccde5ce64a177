"""A guard for the whole suite: no request to Allegro while a database transaction is open.

DESIGN §1: never call Allegro (or any HTTP) inside a database transaction. A call there holds
the transaction's locks for as long as Allegro takes to answer, and whatever the call does
cannot be rolled back with it (a token refresh inside it would even meet its own
``atomic(durable=True)``).

Every request to Allegro starts in ``AllegroClient._send`` (channels/clients/allegro.py, the
only code that speaks HTTP to Allegro). The guard wraps it: when a database connection of the
calling thread is inside an atomic block that the test case did not open itself (pytest-django
wraps a non-transactional test in atomic blocks that Django marks ``_from_testcase``), the call
is recorded with its stack and the test fails. The guard only watches: the call goes on as it
would without it, so code that swallows errors cannot hide an offence from it.

One shape is allowed: the token refresh (``token:refresh_token``) in a durable transaction of
its own, holding the channel's row lock (channels/services/tokens.py). Allegro retires the old
refresh token 60 s after its first use, so the refresh is single-flight under that lock and the
new pair is committed before anyone uses it (DESIGN §4). Inside any other transaction it is an
offence like any call.

Celery workers started by the tests (tests/celery_support.py) run the same guard through
tests/guarded_celery.py and append their offences to a file named by ``APILO_HTTP_GUARD_FILE``;
the test that started them reads the files at its end.
"""

from __future__ import annotations

import functools
import os
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

GUARD_FILE_ENV = "APILO_HTTP_GUARD_FILE"
ALLOWED_KIND = "token:refresh_token"


@dataclass(frozen=True)
class Offence:
    """A request to Allegro that started inside a transaction."""

    what: str  # "GET /order/carriers (api)"
    transactions: str  # "default: 2 atomic blocks"
    stack: str

    def __str__(self) -> str:
        return f"{self.what} inside a transaction ({self.transactions}), from:\n{self.stack}"


def open_transactions(kind: str) -> str:
    """The transactions open on this thread's connections beyond the test case's own, in
    words ("" when there are none, or only the allowed token refresh)."""
    from django.db import connections

    found = []
    for connection in connections.all(initialized_only=True):
        if connection.in_atomic_block:
            blocks = [b for b in connection.atomic_blocks if not b._from_testcase]
            if not blocks:
                continue
            if kind == ALLOWED_KIND and len(blocks) == 1 and blocks[0].durable:
                continue
            found.append(f"{connection.alias}: {len(blocks)} atomic block(s)")
        elif connection.connection is not None and not connection.autocommit:
            found.append(f"{connection.alias}: autocommit off")
    return "; ".join(found)


def install(record: Callable[[Offence], None]) -> None:
    """Wrap AllegroClient._send so that every request checks the open transactions first."""
    from channels.clients.allegro import AllegroClient

    if getattr(AllegroClient._send, "_http_guard", False):
        return
    send = AllegroClient._send

    @functools.wraps(send)
    def guarded(self: Any, method: str, url: str, *, log_path: str, kind: str, **kw: Any) -> Any:
        transactions = open_transactions(kind)
        if transactions:
            stack = "".join(
                frame
                for frame in traceback.format_stack()[:-1]
                if "site-packages" not in frame and "/lib/python" not in frame
            )
            record(Offence(f"{method} {log_path} ({kind})", transactions, stack))
        return send(self, method, url, log_path=log_path, kind=kind, **kw)

    guarded._http_guard = True  # type: ignore[attr-defined]
    AllegroClient._send = guarded  # type: ignore[method-assign]


# --------------------------------------------------------------------------- in Celery workers
def record_to_file(offence: Offence) -> None:
    """A worker's record: appended to the file the test named (one offence per block)."""
    path = os.environ.get(GUARD_FILE_ENV)
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"[pid {os.getpid()}] {offence}\n\f\n")


# --------------------------------------------------------------------------- in the test process
class Guard:
    """The offences of the running test, from this process and from its Celery workers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offences: list[str] = []
        self._files: dict[Path, int] = {}

    def record(self, offence: Offence) -> None:
        with self._lock:
            self._offences.append(str(offence))

    def watch(self, path: Path) -> None:
        """Read offences a worker process writes to ``path`` (tests/celery_support.py)."""
        with self._lock:
            self._files.setdefault(path, 0)

    def take(self) -> list[str]:
        """Every offence seen since the last take (and forget them)."""
        with self._lock:
            found, self._offences = self._offences, []
            for path, offset in list(self._files.items()):
                if not path.exists():
                    continue
                text = path.read_text(encoding="utf-8", errors="replace")
                self._files[path] = len(text)
                found += [block.strip() for block in text[offset:].split("\f") if block.strip()]
        return found

    def forget(self) -> None:
        """Forget the offences seen so far (a new test starts)."""
        with self._lock:
            self._offences = []

    def reset(self) -> None:
        """Forget the offences and the watched files (the test is over)."""
        with self._lock:
            self._offences = []
            self._files = {}


GUARD = Guard()


def _fail_on(offences: list[str]) -> None:
    if offences:
        pytest.fail(
            f"{len(offences)} request(s) to Allegro inside a database transaction:\n\n"
            + "\n\n".join(offences),
            pytrace=False,
        )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_http_in_transaction: the test makes Allegro calls inside a transaction on "
        "purpose (to show that the guard catches them) and takes the offences itself",
    )


@pytest.fixture(scope="session", autouse=True)
def _install_http_guard() -> None:
    install(GUARD.record)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    # Offences of the test body fail the test itself (the teardown check below sees the rest).
    result = yield
    if item.get_closest_marker("allow_http_in_transaction") is None:
        _fail_on(GUARD.take())
    return result


@pytest.fixture(autouse=True)
def _no_http_in_transactions(request: pytest.FixtureRequest) -> Iterator[None]:
    GUARD.forget()
    yield
    offences = GUARD.take()
    GUARD.reset()
    if request.node.get_closest_marker("allow_http_in_transaction") is None:
        _fail_on(offences)


@pytest.fixture
def http_guard() -> Guard:
    """The guard itself, for a test that checks what it catches."""
    return GUARD
