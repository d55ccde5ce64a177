"""The one reader of PO files in the tests (the catalogue and the fragments in locale_fragments/).

polib is not a dependency; the files we read are the plain ones makemessages and people write:
an entry is a block of ``msgctxt``/``msgid``/``msgid_plural``/``msgstr[n]`` lines (each may go on
in ``"…"`` lines), comments start with ``#``, blank lines separate entries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$')


@dataclass
class Entry:
    msgid: str
    msgctxt: str = ""
    msgid_plural: str = ""
    # msgstr, or msgstr[0], msgstr[1]… of a plural entry, in order.
    msgstrs: list[str] = field(default_factory=list)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def read_po(path: Path) -> list[Entry]:
    """Every entry of the file except the header (the entry whose msgid is empty)."""
    entries: list[Entry] = []
    for block in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        fields: dict[str, str] = {}
        key = None
        for raw in block.splitlines():
            line = raw.strip()
            if line.startswith("#"):
                continue
            match = _KEYWORD.match(line)
            if match:
                key = match.group(1)
                fields[key] = _unescape(match.group(2))
            elif line.startswith('"') and key:
                fields[key] += _unescape(line[1:-1])
        if fields.get("msgid"):
            strs = sorted(
                ((k, v) for k, v in fields.items() if k.startswith("msgstr")),
                key=lambda kv: int(kv[0][7:-1]) if "[" in kv[0] else -1,
            )
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    msgctxt=fields.get("msgctxt", ""),
                    msgid_plural=fields.get("msgid_plural", ""),
                    msgstrs=[v for _k, v in strs],
                )
            )
    return entries
