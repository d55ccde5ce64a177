"""The API's documentation draws in a real browser under the site's CSP, from local files."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_and_redoc_draw_the_schema(page, live_server, console_errors):
    # Fetched from elsewhere (Redoc's footer asks for its logo on a CDN: the CSP refuses it).
    outside: list[str] = []
    page.on(
        "requestfinished",
        lambda r: (
            outside.append(r.url)
            if not r.url.startswith((live_server.url, "data:", "blob:"))
            else None
        ),
    )
    page.goto("/api/v1/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("apilo API")
    expect(page.get_by_text("/api/v1/orders/{order_id}/status/")).to_be_visible()
    page.goto("/api/v1/redoc/")
    expect(page.get_by_role("heading", name="apilo API")).to_be_visible()
    expect(page.get_by_text("Orders, newest first, a page after a cursor").first).to_be_attached()
    assert outside == []
    # Redoc's footer logo is hard-wired to its CDN: the CSP refuses it, and that is all it says.
    assert [e for e in console_errors if "cdn.redoc.ly/redoc/logo-mini.svg" not in e] == []
