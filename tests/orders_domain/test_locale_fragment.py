"""The Polish translations of the orders app (locale_fragments/orders.po, in the catalogue)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.po import read_po

FRAGMENT = Path(__file__).resolve().parents[2] / "locale_fragments" / "orders.po"


def singular_translations() -> dict[str, str]:
    return {e.msgid: e.msgstrs[0] for e in read_po(FRAGMENT) if not e.msgid_plural}


def test_the_tabs_read_as_in_apilo():
    pl = singular_translations()
    assert [pl[label] for label in ("New", "In progress", "To ship", "Completed", "All")] == [
        "Nowe",
        "W realizacji",
        "Do wysłania",
        "Zrealizowane",
        "Wszystkie",
    ]


def test_every_entry_is_translated_and_keeps_its_placeholders():
    text = FRAGMENT.read_text(encoding="utf-8")
    pl = singular_translations()
    assert len(pl) > 100
    for msgid, msgstr in pl.items():
        assert msgstr, msgid
        assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(
            re.findall(r"%\(\w+\)[sd]", msgstr)
        ), msgid
    assert 'msgstr[3] "%(count)d zamówień przeniesiono do „%(status)s”."' in text
