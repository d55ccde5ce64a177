"""Cursor pages of the API's smaller lists (shipments, labels, mail), keyed on the row id.

The cursor is opaque to integrators (base64 of the last id sent); a page is one query of
``limit + 1`` rows walking an index on (tenant, …, id), so every depth costs the same.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from api.errors import ApiError

M = TypeVar("M", bound=Model)


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode(text: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        kind, _sep, value = raw.partition(":")
        if kind != "id" or not value.isdigit() or len(value) > 18:
            raise ValueError(raw)
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(
            _("This cursor is not valid; start from the first page."),
            code="cursor_invalid",
            field="cursor",
            status_code=400,
        ) from None


def page(
    qs: QuerySet[M], params: dict[str, Any], *, newest_first: bool = True
) -> tuple[list[M], str | None]:
    """The rows after ``params["cursor"]`` (newest first, or oldest first) and the next cursor."""
    limit = int(params["limit"])
    if params.get("cursor"):
        after = decode(params["cursor"])
        qs = qs.filter(pk__lt=after) if newest_first else qs.filter(pk__gt=after)
    rows = list(qs.order_by("-pk" if newest_first else "pk")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode(rows[-1].pk) if more else None)
