"""Real Celery processes for tests whose behaviour depends on them.

`celery_worker_process` / `celery_beat_process` start `celery -A apilo worker|beat` as
subprocesses against the test database and the test Redis, so what they write is visible to
tests using `transactional_db` or `live_server`. `CeleryProcess.kill()` sends SIGKILL (a worker
dying mid-task); `.start()` starts it again. Workers run tests/guarded_celery.py: apilo's app
with the guard of tests/http_guard.py, whose offences fail the test that started the worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.http_guard import GUARD, GUARD_FILE_ENV

REPO = Path(__file__).resolve().parent.parent


def _database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{db['NAME']}"


class CeleryProcess:
    def __init__(
        self,
        kind: str,
        extra_env: dict[str, str] | None = None,
        *,
        queues: str = "",
        concurrency: int = 2,
    ) -> None:
        self.kind = kind
        self.extra_env = extra_env or {}
        # A worker consumes every queue (settings.CELERY_TASK_QUEUES) unless given some, as -Q.
        self.queues = queues
        self.concurrency = concurrency
        self.proc: subprocess.Popen | None = None
        self.log = Path(tempfile.mkstemp(prefix=f"celery-{kind}-", suffix=".log")[1])
        self.workdir = Path(tempfile.mkdtemp(prefix=f"celery-{kind}-"))
        self.guard_file = self.workdir / "http-in-transactions.txt"

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "apilo.settings_test",
                "DATABASE_URL": _database_url(),
                "REDIS_URL": settings.REDIS_URL,
                "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
                "CACHE_KEY_PREFIX": settings.CACHES["default"].get("KEY_PREFIX", ""),
                GUARD_FILE_ENV: str(self.guard_file),
            }
        )
        env.update(self.extra_env)
        return env

    def start(self) -> CeleryProcess:
        app = "tests.guarded_celery" if self.kind == "worker" else "apilo"
        args = [sys.executable, "-m", "celery", "-A", app, self.kind, "--loglevel", "INFO"]
        GUARD.watch(self.guard_file)
        if self.kind == "worker":
            name = f"test-{os.getpid()}-{self.queues.replace(',', '-') or 'all'}-{id(self)}@%h"
            args += ["--concurrency", str(self.concurrency), "--pool", "prefork", "-n", name]
            if self.queues:
                args += ["-Q", self.queues]
        else:
            args += ["--schedule", str(self.workdir / "beat-schedule")]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                args,
                cwd=REPO,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    def wait_for_log(self, text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log.read_text(errors="replace"):
                return
            if self.proc and self.proc.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"celery {self.kind} did not log {text!r}:\n{self.output()[-3000:]}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL the whole process group: the worker dies mid-task, nothing is cleaned up."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def celery_worker_process(transactional_db) -> Iterator[CeleryProcess]:
    from apilo.celery import app

    app.control.purge()
    worker = CeleryProcess("worker").start()
    worker.wait_for_log("ready.")
    yield worker
    worker.stop()


@pytest.fixture
def celery_beat_process(transactional_db) -> Iterator[CeleryProcess]:
    # A short heartbeat so tests see beat's first tick within seconds.
    beat = CeleryProcess("beat", {"BEAT_HEARTBEAT_SECONDS": "2"}).start()
    yield beat
    beat.stop()


def wait_until(
    predicate: Callable[[], Any], timeout: float, message: str = "", step: float = 0.25
) -> Any:
    """The first truthy value of predicate(), polling until timeout (then the test fails)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s: {message}")
        time.sleep(step)


@pytest.fixture
def celery_processes(transactional_db) -> Iterator[Callable[..., tuple[CeleryProcess, ...]]]:
    """`start(env, beat=True)` → (worker[, beat]) Celery subprocesses with the given extra
    environment; stopped at the end of the test."""
    from apilo.celery import app

    started: list[CeleryProcess] = []

    def start(extra_env: dict[str, str], *, beat: bool = True) -> tuple[CeleryProcess, ...]:
        app.control.purge()
        worker = CeleryProcess("worker", extra_env).start()
        started.append(worker)
        worker.wait_for_log("ready.", timeout=60)
        if not beat:
            return (worker,)
        beat_process = CeleryProcess("beat", {"BEAT_HEARTBEAT_SECONDS": "30", **extra_env})
        started.append(beat_process.start())
        return worker, beat_process

    yield start
    for process in reversed(started):
        process.stop()
