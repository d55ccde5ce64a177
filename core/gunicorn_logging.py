"""gunicorn's logger with the OAuth callback's query strings redacted (core.request_logging).

Used by the web server of docker-compose.yml and the Dockerfile:
`gunicorn … --logger-class core.gunicorn_logging.RedactingLogger`. gunicorn logs request lines
in its access log and, when a request fails, in its error log ("Error handling request …").
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from core.request_logging import add_redaction


class RedactingLogger(Logger):
    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        add_redaction(self.access_log, self.error_log)
