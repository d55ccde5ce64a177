"""Sync health in the seller's words, every one of them in Polish when the page is Polish:
the lag with proper plural forms, Allegro's error codes as sentences (the raw code only as a
small detail), stored problem texts, and the orders Allegro cannot serve."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from channels.models import SalesChannel
from sync.health import lag_in_words
from sync.runkit import stored_text_in_words
from tests.sync.helpers import SELLER, poll


@pytest.mark.parametrize(
    ("seconds", "polish", "english"),
    [
        (0, "zamówienia aktualne: sprzed 0 sekund", "orders up to date as of 0 seconds ago"),
        (1, "zamówienia aktualne: sprzed 1 sekundy", "orders up to date as of 1 second ago"),
        (2, "zamówienia aktualne: sprzed 2 sekund", "orders up to date as of 2 seconds ago"),
        (22, "zamówienia aktualne: sprzed 22 sekund", "orders up to date as of 22 seconds ago"),
        (26, "zamówienia aktualne: sprzed 26 sekund", "orders up to date as of 26 seconds ago"),
        (60, "zamówienia aktualne: sprzed 1 minuty", "orders up to date as of 1 minute ago"),
        (125, "zamówienia aktualne: sprzed 2 minut", "orders up to date as of 2 minutes ago"),
        (3 * 3600, "zamówienia aktualne: sprzed 3 godzin", "orders up to date as of 3 hours ago"),
        (5 * 86400, "zamówienia aktualne: sprzed 5 dni", "orders up to date as of 5 days ago"),
    ],
)
def test_the_lag_reads_naturally(seconds, polish, english):
    with translation.override("pl"):
        assert lag_in_words(seconds) == polish
    with translation.override("en"):
        assert lag_in_words(seconds) == english


def test_stored_problem_texts_are_translated_with_their_detail_kept():
    with translation.override("pl"):
        assert stored_text_in_words("Allegro refused a request: VALIDATION_ERROR") == (
            "Allegro odrzuciło żądanie: VALIDATION_ERROR"
        )
        assert stored_text_in_words(
            "Allegro did not answer properly; apilo tries again by itself."
        ) == ("Allegro nie odpowiedziało poprawnie; apilo samo spróbuje ponownie.")


def page(client, path: str) -> str:
    response = client.get(path, HTTP_ACCEPT_LANGUAGE="pl")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_polish_dashboard_says_why_reauthorization_is_needed(
    client, admin_user, channel, sync_env
):
    poll(channel)
    client.force_login(admin_user)
    html = page(client, reverse("orders:dashboard", kwargs={"tenant_slug": channel.tenant.slug}))
    assert re.search(r'data-field="lag">zamówienia aktualne: sprzed \d+ sekund[y]?</div>', html)
    assert "orders current as of" not in html
    assert "aktualne na" not in html

    sync_env.sandbox.revoke_tokens(SELLER)
    poll(channel)
    with scopes_disabled():
        assert SalesChannel.objects.get(pk=channel.pk).needs_reauth_reason == (
            "invalid_grant on refresh"
        )
    html = page(client, reverse("orders:dashboard", kwargs={"tenant_slug": channel.tenant.slug}))
    assert (
        '<div data-field="reauth-reason">Allegro odrzuciło token — autoryzuj ponownie '
        '<span class="muted small">(invalid_grant)</span></div>'
    ) in html
    assert "on refresh" not in html
    assert (
        '<td data-field="last-error">Allegro nie akceptuje już autoryzacji apilo dla tego konta'
    ) in html


@pytest.mark.django_db
def test_the_polish_channel_page_lists_the_order_allegro_cannot_serve(
    client, admin_user, channel, sync_env, settings
):
    settings.SYNC_GET_RETRIES = 0
    sandbox = sync_env.sandbox
    poll(channel)
    stuck, _other = sandbox.create_orders(SELLER, 2)
    sandbox.call("PUT", f"/orders/{stuck}/unreadable", {"status": 500})
    sandbox.call("PUT", f"/orders/{stuck}/unlisted")
    poll(channel)
    client.force_login(admin_user)

    html = page(
        client,
        reverse(
            "administration:channels:detail",
            kwargs={"tenant_slug": channel.tenant.slug, "channel_id": channel.pk},
        ),
    )

    assert (
        '<h3 data-field="stuck-title">1 zamówienie, którego Allegro nie udostępnia:</h3>'
    ) in html
    row = re.search(rf'<tr data-form-id="{stuck}">(.*?)</tr>', html).group(1)
    assert row.startswith(f"<td>{stuck}</td><td>")
    assert "wewnętrzny błąd Allegro, " in row
    assert '<span class="muted small">(HTTP 500, 1 próba)</span>' in row
    assert re.search(r'data-field="lag">zamówienia aktualne: sprzed \d+ sekund', html)
    for english in ("orders up to date", "cannot serve", "attempt", "internal error"):
        assert english not in html
    dashboard = page(
        client, reverse("orders:dashboard", kwargs={"tenant_slug": channel.tenant.slug})
    )
    assert "1 zamówienie, którego Allegro nie udostępnia</div>" in dashboard
