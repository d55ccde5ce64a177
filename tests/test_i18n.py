"""Polish is the default language and every UI string has a Polish translation."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "locale" / "pl" / "LC_MESSAGES" / "django.po"


def _entries(text: str) -> list[tuple[str, list[str]]]:
    """(msgid, [msgstr, …]) of every entry but the header; continuation lines joined."""
    entries = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            match = re.match(r'^(msgid|msgid_plural|msgstr(?:\[\d\])?)\s+"(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            entries.append(
                (fields["msgid"], [v for k, v in fields.items() if k.startswith("msgstr")])
            )
    return entries


def test_every_ui_string_has_a_polish_translation():
    entries = _entries(CATALOGUE.read_text(encoding="utf-8"))
    assert len(entries) > 500
    untranslated = [msgid for msgid, translations in entries if not all(translations)]
    assert untranslated == []
    assert '#, fuzzy\nmsgid "' not in CATALOGUE.read_text(encoding="utf-8")


@pytest.mark.django_db
def test_a_visitor_without_a_preference_gets_polish(client, settings):
    settings.LANGUAGE_CODE = "pl"
    page = client.get(reverse("login")).content.decode()
    assert 'lang="pl"' in page
    assert "Zaloguj" in page


@pytest.mark.django_db
def test_english_is_selectable(client, settings):
    settings.LANGUAGE_CODE = "pl"
    response = client.post(reverse("set_language"), {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    page = client.get(reverse("login")).content.decode()
    assert 'lang="en"' in page
    assert "Log in" in page
