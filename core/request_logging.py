"""Keep secrets that travel in query strings out of the logs.

Allegro sends the OAuth `code` and `state` to our callback in the query string, and every web
server logs request lines with their query. Whoever reads the logs must not be able to finish
someone's authorization, so wherever a request line is logged (Django's runserver through the
"django.server" logger, gunicorn's access and error logs, any message of ours), the query of
such a path is replaced by "[redacted]": also when the path is only mentioned inside another
query, as in the login redirect's `?next=/channels/allegro/callback/%3Fcode%3D…`.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

# Paths whose query strings carry secrets (the OAuth callback registered at Allegro).
REDACTED_QUERY_PATHS: tuple[str, ...] = ("/channels/allegro/callback/",)
REDACTED = "[redacted]"

# A URL or request target with a query: everything up to the next white space or quote.
_TARGET_WITH_QUERY = re.compile(r"""[^\s"'<>]*\?[^\s"'<>]*""")


def _sensitive(path: str, query: str) -> bool:
    if any(path.endswith(p) for p in REDACTED_QUERY_PATHS):
        return True
    decoded = unquote(unquote(query))
    return any(p in decoded for p in REDACTED_QUERY_PATHS)


def redact_target(target: str) -> str:
    """`/channels/allegro/callback/?code=…` → `/channels/allegro/callback/?[redacted]`."""
    path, sep, query = target.partition("?")
    if sep and _sensitive(path, query):
        return f"{path}?{REDACTED}"
    return target


def redact_text(text: str) -> str:
    """Every URL or request target in `text` whose query must not be logged, redacted."""
    if "?" not in text or not any(p in unquote(unquote(text)) for p in REDACTED_QUERY_PATHS):
        return text
    return _TARGET_WITH_QUERY.sub(lambda match: redact_target(match.group(0)), text)


class RedactQueryStrings(logging.Filter):
    """A logging filter (on handlers and loggers) that redacts the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record is logging's problem to report, not ours
            return True
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def add_redaction(*loggers: Any) -> None:
    """Put the filter on loggers that do not go through our LOGGING (gunicorn's own)."""
    for logger in loggers:
        if not any(isinstance(f, RedactQueryStrings) for f in logger.filters):
            logger.addFilter(RedactQueryStrings())
