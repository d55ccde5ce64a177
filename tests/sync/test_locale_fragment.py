"""The Polish translations of the sync engine (locale_fragments/sync.po, in the catalogue)."""

from __future__ import annotations

import re
from pathlib import Path

from sync import backfill, runkit
from tests.support.po import read_po

FRAGMENT = Path(__file__).resolve().parents[2] / "locale_fragments" / "sync.po"


def entries() -> list[tuple[str, list[str]]]:
    """(msgid, [msgstr…]) of every entry."""
    return [(entry.msgid, entry.msgstrs) for entry in read_po(FRAGMENT)]


def test_every_entry_is_translated_and_keeps_its_placeholders():
    found = entries()
    assert len(found) > 40
    for msgid, strs in found:
        assert all(strs), msgid
        for msgstr in strs:
            assert sorted(re.findall(r"%\(\w+\)[sd]", msgid)) == sorted(
                re.findall(r"%\(\w+\)[sd]", msgstr)
            ), msgid


def test_the_stored_messages_are_translated():
    translated = {msgid for msgid, _ in entries()}
    stored = [
        runkit.AUTH_REVOKED_TEXT,
        runkit.RATE_LIMITED_TEXT,
        runkit.TRANSIENT_TEXT,
        runkit.INTERNAL_TEXT,
        runkit.GONE_TEXT,
        "The start date must not be after the end date.",
        "The end date must not be in the future.",
        "Allegro keeps orders for 12 months: choose a start date within the last 12 months.",
        "Connect the channel to Allegro first.",
    ]
    assert [m for m in stored if m not in translated] == []
    assert backfill.MAX_DAYS_BACK == 365
