"""docker-compose.yml stays valid and runs the five services the deployment needs."""

import shutil
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def test_compose_file_declares_the_stack():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    services = compose["services"]
    assert sorted(services) == ["beat", "postgres", "redis", "web", "worker"]
    assert "gunicorn apilo.wsgi:application" in services["web"]["command"]
    assert services["worker"]["command"][:4] == ["celery", "-A", "apilo", "worker"]
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
