"""The safe renderer of tenant-written text (DESIGN §3): ``{order.number}``-style placeholders.

Grammar, deliberately tiny:

* ``{name}`` is a variable; ``name`` is one or two lower-case words joined by a dot
  (``order.number``) and must be in core.variables for the kind of text;
* ``{{`` and ``}}`` are a literal ``{`` and ``}``;
* anything else inside braces — spaces, ``:`` (format specs), ``!`` (conversions), ``[`` or
  ``(`` (indexing, calls), a third name part, ``__dunder__`` names — is an error.

Text is validated when it is saved (``validate``) and rendered from a flat mapping of strings
(``render``). Rendering never evaluates anything: each value comes from the catalogue's own
function of the objects, so no attribute of an object is reachable by writing its name. Neither
the Django template engine nor ``str.format`` ever sees tenant text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import UserError
from core.variables import CATALOGUE, Context, Objects, names_for

# Longest text accepted (a shipment comment is at most 500; e-mail bodies need more).
MAX_LENGTH = 20_000
# More variables than this in one text is not a template, it is an attack or a mistake.
MAX_VARIABLES = 200

_NAME = re.compile(r"[a-z][a-z_]*(?:\.[a-z][a-z_]*)?")
_SHOWN = 40  # characters of a bad placeholder quoted back in an error


@dataclass(frozen=True)
class Literal:
    text: str


@dataclass(frozen=True)
class Placeholder:
    name: str


class TemplateProblem(UserError, ValueError):
    """The text is not a valid template (still a ValueError, as it always was)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, code=code)


def _quote(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "…"


def parse(text: str) -> list[Literal | Placeholder]:
    """Split text into literals and placeholders, or raise TemplateProblem (grammar only)."""
    if len(text) > MAX_LENGTH:
        raise TemplateProblem(
            _("The text is too long: at most %(max)d characters, this one has %(n)d.")
            % {"max": MAX_LENGTH, "n": len(text)},
            "too_long",
        )
    parts: list[Literal | Placeholder] = []
    buf: list[str] = []
    count = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "{":
            if text.startswith("{{", i):
                buf.append("{")
                i += 2
                continue
            end = text.find("}", i + 1)
            inner = text[i + 1 : end] if end != -1 else ""
            if end == -1 or "{" in inner:
                raise TemplateProblem(
                    _("A “{” is never closed. Write {{ for a literal brace."), "unclosed"
                )
            if not _NAME.fullmatch(inner):
                if any(c in inner for c in ":!"):
                    message = _(
                        "“{%(text)s}”: formatting (“:” or “!”) is not allowed. Write the "
                        "variable alone, e.g. {order.number}."
                    )
                    code = "format_spec"
                elif "__" in inner or "[" in inner or "(" in inner or inner.count(".") > 1:
                    message = _(
                        "“{%(text)s}” reaches into a variable. Only the names listed next to "
                        "the field can be used, e.g. {order.number}."
                    )
                    code = "attribute"
                else:
                    message = _(
                        "“{%(text)s}” is not a variable. Use a name from the list exactly as "
                        "written, e.g. {order.number}, without spaces or extra parts."
                    )
                    code = "syntax"
                raise TemplateProblem(message % {"text": _quote(inner)}, code)
            count += 1
            if count > MAX_VARIABLES:
                raise TemplateProblem(
                    _("Too many variables: at most %(max)d in one text.") % {"max": MAX_VARIABLES},
                    "too_many",
                )
            if buf:
                parts.append(Literal("".join(buf)))
                buf = []
            parts.append(Placeholder(inner))
            i = end + 1
            continue
        if ch == "}":
            if text.startswith("}}", i):
                buf.append("}")
                i += 2
                continue
            raise TemplateProblem(
                _("A “}” has no opening “{”. Write }} for a literal brace."), "unopened"
            )
        buf.append(ch)
        i += 1
    if buf:
        parts.append(Literal("".join(buf)))
    return parts


def problems(text: str, context: str = Context.SHIPMENT_COMMENT) -> list[TemplateProblem]:
    """Everything wrong with ``text`` as a template of this kind (empty: it is valid)."""
    try:
        parts = parse(text)
    except TemplateProblem as exc:
        return [exc]
    allowed = names_for(context)
    used = [p.name for p in parts if isinstance(p, Placeholder)]
    unknown = sorted({name for name in used if name not in allowed})
    if not unknown:
        return []
    names = ", ".join("{" + name + "}" for name in unknown)
    return [
        TemplateProblem(
            ngettext(
                "Unknown variable %(names)s. Use only the variables listed below the field.",
                "Unknown variables %(names)s. Use only the variables listed below the field.",
                len(unknown),
            )
            % {"names": names},
            "unknown_variable",
        )
    ]


def validate(text: str, context: str = Context.SHIPMENT_COMMENT) -> None:
    """Raise ValidationError (with every problem) unless ``text`` is a valid template."""
    found = problems(text, context)
    if found:
        raise ValidationError([ValidationError(p.message, code=p.code) for p in found])


def validate_shipment_comment(text: str) -> None:
    """Django validator of a shipment comment (the channel's default and a shipment's own)."""
    validate(text, Context.SHIPMENT_COMMENT)


def values_for(objects: Objects, context: str = Context.SHIPMENT_COMMENT) -> dict[str, str]:
    """The flat name → text mapping of a kind of text for these objects."""
    out: dict[str, str] = {}
    for name in names_for(context):
        try:
            value = CATALOGUE[name].value(objects)
        except AttributeError:
            value = ""  # e.g. no shipment yet: the variable renders empty
        out[name] = "" if value is None else str(value)
    return out


def render(text: str, values: Mapping[str, str]) -> str:
    """Fill in a template from ``values``. A name missing from ``values`` renders empty; text
    that does not parse is returned as written (it was validated on save; never crash a send)."""
    try:
        parts = parse(text)
    except TemplateProblem:
        return text
    return "".join(p.text if isinstance(p, Literal) else str(values.get(p.name, "")) for p in parts)


def render_html(text: str, values: Mapping[str, str]) -> str:
    """Fill in an HTML template: the tenant's own markup stays as written, every value is
    escaped (a buyer's name or an offer title is text, never markup) and its line breaks
    become ``<br>``."""
    return render(text, {name: _html_value(value) for name, value in values.items()})


def _html_value(value: str) -> str:
    return "<br>\n".join(html.escape(line, quote=True) for line in str(value).split("\n"))


def render_for(text: str, objects: Objects, context: str = Context.SHIPMENT_COMMENT) -> str:
    return render(text, values_for(objects, context))
