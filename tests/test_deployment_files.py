"""docker-compose.yml stays valid and runs the six services the deployment needs (two kinds of
worker between them consuming every queue); `make run`
says where e-mails go."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml
from django.conf import settings

REPO = Path(__file__).resolve().parent.parent


def test_compose_file_declares_the_stack():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert sorted(services) == ["beat", "postgres", "redis", "web", "worker", "worker-sync"]
    assert "gunicorn apilo.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "apilo", "worker"]
    assert services["worker-sync"]["command"][:4] == ["celery", "-A", "apilo", "worker"]
    # Between them the workers consume every queue, and polls have a worker of their own.
    queues = {
        name: services[name]["command"][services[name]["command"].index("-Q") + 1].split(",")
        for name in ("worker", "worker-sync")
    }
    assert queues == {"worker": ["celery", "push", "mail"], "worker-sync": ["sync"]}
    assert {q.name for q in settings.CELERY_TASK_QUEUES} == {"celery", "push", "mail", "sync"}
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert routed <= {"celery", "push", "mail", "sync"}
    assert services["beat"]["command"][:4] == ["celery", "-A", "apilo", "beat"]


def test_compose_config_validates():
    if (
        shutil.which("docker")
        and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0
    ):
        command = ["docker", "compose"]
    else:
        command = [shutil.which("docker-compose") or "docker-compose"]
    result = subprocess.run(
        [*command, "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin:/usr/local/bin"},
    )
    assert result.returncode == 0, result.stderr


def _run_dev_mail_line(**env: str) -> str:
    """The line of `make run`'s banner saying where e-mails go, computed as bin/run-dev does."""
    script = (REPO / "bin" / "run-dev").read_text()
    snippet = script.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0]
    clean = {k: v for k, v in os.environ.items() if k not in {"EMAIL_URL", "SECRET_KEY"}}
    clean.update(
        APILO_ENV_FILE=os.devnull,
        DEBUG="1",
        DJANGO_SETTINGS_MODULE="apilo.settings",
        **env,
    )
    result = subprocess.run(
        [sys.executable, "-c", snippet], cwd=REPO, env=clean, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_make_run_says_mail_is_printed_to_the_console():
    assert _run_dev_mail_line() == (
        "printed to the console (var/log/web.log; worker mails in var/log/worker.log)"
    )


def test_make_run_names_the_mail_catcher_page_and_never_the_smtp_password():
    line = _run_dev_mail_line(
        EMAIL_URL="smtp://dev:s3cret-pass@127.0.0.1:1025",
        MAIL_CATCHER_URL="http://127.0.0.1:8025/",
    )
    assert line == "http://127.0.0.1:8025/ (mail catcher behind SMTP server 127.0.0.1:1025)"
    assert _run_dev_mail_line(EMAIL_URL="smtp+tls://dev:s3cret-pass@mail.example:587") == (
        "sent through SMTP server mail.example:587"
    )
