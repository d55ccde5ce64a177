"""The variables a default shipment comment may contain, and the validator that enforces them.

Tenant-written text is never rendered by the Django template engine or ``str.format`` on real
objects. A comment like ``Zamówienie {order.number}`` names variables from this catalogue only:
no attribute walking (``{order.__class__}``), no indexing, no format specs (``{order.id:>10}``)
and no conversions (``{order.id!r}``). ``{{`` and ``}}`` stand for literal braces.

The safe renderer that fills these in comes with shipments (next issue); it must use
``CATALOGUE`` and ``parse`` from here so that what validates is exactly what renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

# name -> what it is (shown next to the field).
CATALOGUE: dict[str, str] = {
    "order.id": _("the order's number in apilo"),
    "order.number": _("the order's number in apilo (same as order.id)"),
    "order.external_id": _("the Allegro order (checkout form) id"),
    "order.created_at": _("the date the order was placed"),
    "buyer.login": _("the buyer's Allegro login"),
    "buyer.name": _("the buyer's first and last name"),
    "shipment.waybill": _("the tracking (waybill) number"),
    "shipment.carrier": _("the carrier's name"),
    "channel.name": _("the sales channel's name"),
    "channel.alias": _("the sales channel's alias"),
}

_NAME = re.compile(r"[a-z][a-z_]*(?:\.[a-z][a-z_]*)?")


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Variable:
    name: str


class TemplateSyntaxProblem(ValueError):
    """The text is not a valid comment template; the message says why in plain words."""


def parse(text: str) -> list[Literal | Variable]:
    """Split a comment into literal text and variable names; raise TemplateSyntaxProblem.

    Grammar: ``{{`` and ``}}`` are literal braces; ``{name}`` is a variable where name is
    ``word`` or ``word.word`` (lower-case letters and underscores). Anything else inside braces
    (spaces, ``:``, ``!``, ``[``, more dots, nested braces) is an error.
    """
    parts: list[Literal | Variable] = []
    buf: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                buf.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            if end == -1:
                raise TemplateSyntaxProblem(
                    _("A “{” is never closed. Write {{ for a literal brace.")
                )
            inner = text[i + 1 : end]
            if "{" in inner:
                raise TemplateSyntaxProblem(
                    _("A “{” is never closed. Write {{ for a literal brace.")
                )
            if not _NAME.fullmatch(inner):
                raise TemplateSyntaxProblem(
                    _(
                        "“{%(text)s}” is not a variable. Use a name from the list exactly as "
                        "written, e.g. {order.id}, without spaces, formatting or extra parts."
                    )
                    % {"text": inner}
                )
            if buf:
                parts.append(Literal("".join(buf)))
                buf = []
            parts.append(Variable(inner))
            i = end + 1
            continue
        if ch == "}":
            if text.startswith("}}", i):
                buf.append("}")
                i += 2
                continue
            raise TemplateSyntaxProblem(
                _("A “}” has no opening “{”. Write }} for a literal brace.")
            )
        buf.append(ch)
        i += 1
    if buf:
        parts.append(Literal("".join(buf)))
    return parts


def validate_comment_template(text: str) -> None:
    """Django validator: the text parses and uses only catalogue variables."""
    try:
        parts = parse(text)
    except TemplateSyntaxProblem as exc:
        raise ValidationError(str(exc), code="syntax") from None
    unknown = sorted({p.name for p in parts if isinstance(p, Variable)} - CATALOGUE.keys())
    if unknown:
        names = ", ".join("{" + name + "}" for name in unknown)
        raise ValidationError(
            ngettext(
                "Unknown variable %(names)s. Use only the variables listed below the field.",
                "Unknown variables %(names)s. Use only the variables listed below the field.",
                len(unknown),
            )
            % {"names": names},
            code="unknown_variable",
        )
