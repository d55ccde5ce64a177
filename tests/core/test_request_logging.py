"""The OAuth callback's `code` and `state` never reach the logs: the real web servers of the
deployment (gunicorn as docker-compose.yml and the Dockerfile start it, runserver as `make run`
does) are started, the callback is requested, and their output is read."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

from core.request_logging import redact_text

REPO = Path(__file__).resolve().parent.parent.parent
CODE = "c0de-SECRET-4f9a"
STATE = "st4te-SECRET-77b1"
CALLBACK = f"/channels/allegro/callback/?code={CODE}&state={STATE}"


def test_redact_text():
    assert redact_text(f'"GET {CALLBACK} HTTP/1.1" 302 0') == (
        '"GET /channels/allegro/callback/?[redacted] HTTP/1.1" 302 0'
    )
    login = "/accounts/login/?next=/channels/allegro/callback/%3Fcode%3Dx%26state%3Dy"
    assert redact_text(f"GET {login} HTTP/1.1") == "GET /accounts/login/?[redacted] HTTP/1.1"
    assert redact_text("https://apilo.example/channels/allegro/callback/?code=x") == (
        "https://apilo.example/channels/allegro/callback/?[redacted]"
    )
    other = "GET /app/alfa/orders/?status=3&page=2 HTTP/1.1"
    assert redact_text(other) == other


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _environment() -> dict[str, str]:
    from django.conf import settings

    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="apilo.settings_test",
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        PYTHONUNBUFFERED="1",
    )
    return env


def _get(url: str) -> int:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _serve_and_request(command: list[str], port: int, env: dict[str, str]) -> tuple[str, int]:
    """Start the server, request the callback (anonymous: redirected to the login page with the
    callback in ?next=) and that login page, stop the server; its whole output."""
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[0]) from None
                time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        status = _get(base + CALLBACK)
        login = "/accounts/login/?next=" + urllib.request.quote(CALLBACK, safe="/")
        assert _get(base + login) == 200
        time.sleep(0.5)  # the access log line is written after the response
    finally:
        process.terminate()
        output = process.communicate(timeout=20)[0]
    return output, status


def _assert_redacted(output: str) -> None:
    assert CODE not in output and STATE not in output, output
    assert "GET /channels/allegro/callback/?[redacted] HTTP/1.1" in output, output
    assert "GET /accounts/login/?[redacted] HTTP/1.1" in output, output


def _gunicorn_from_compose(port: int) -> list[str]:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    script = shlex.split(compose["services"]["web"]["command"])[2]
    gunicorn = script.split("&&", 1)[1].replace("0.0.0.0:8000", f"127.0.0.1:{port}")
    # The script as compose's sh runs it, with gunicorn from this virtualenv.
    return [
        "sh",
        "-c",
        "exec " + gunicorn.strip().replace("gunicorn ", f"{_venv_bin()}/gunicorn ", 1),
    ]


def _gunicorn_from_dockerfile(port: int) -> list[str]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    [cmd] = re.findall(r"^CMD (\[.*\])$", text, flags=re.M)
    argv = json.loads(cmd)
    argv[0] = f"{_venv_bin()}/gunicorn"
    return [a.replace("0.0.0.0:8000", f"127.0.0.1:{port}") for a in argv]


def _venv_bin() -> str:
    return str(Path(sys.executable).parent)


@pytest.mark.django_db
@pytest.mark.parametrize("source", ["docker-compose.yml", "Dockerfile"])
def test_gunicorn_logs_no_oauth_code(source):
    port = _free_port()
    build = _gunicorn_from_compose if source == "docker-compose.yml" else _gunicorn_from_dockerfile
    command = build(port)
    if source == "docker-compose.yml":
        command[-1] = command[-1].replace("--workers 3", "--workers 1")
    output, status = _serve_and_request(command, port, _environment())
    assert status == 302
    _assert_redacted(output)


@pytest.mark.django_db
def test_runserver_logs_no_oauth_code():
    port = _free_port()
    command = [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"]
    output, status = _serve_and_request(command, port, _environment())
    assert status == 302
    _assert_redacted(output)
