"""Our error pages: 404 and 403 inside the layout (Django's default handlers render
templates/404.html and 403.html with the request), the CSRF failure page, and a 500 page that
renders without the database."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.middleware.csrf import REASON_NO_CSRF_COOKIE
from django.shortcuts import render
from django.template import loader
from django.utils.translation import get_language

logger = logging.getLogger(__name__)

PLAIN_500 = (
    '<!doctype html><html lang="pl"><meta charset="utf-8"><title>apilo</title>'
    '<h1>Błąd serwera / Server error (500)</h1><p><a href="/">apilo</a></p></html>'
)


def server_error(request: HttpRequest) -> HttpResponse:
    """The 500 page. The database may be what failed, so it is rendered without the request
    (no context processors, no session, no user): only the tenant the middleware already
    loaded is read, for the link back."""
    tenant = getattr(request, "tenant", None)
    context = {
        "tenant_slug": tenant.slug if tenant is not None else None,
        "language_code": get_language() or "pl",
    }
    try:
        html = loader.get_template("500.html").render(context)
    except Exception:  # the error page itself must never fail
        logger.exception("the 500 page could not be rendered")
        html = PLAIN_500
    return HttpResponseServerError(html)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent without a valid CSRF token: say what happened and how to go on."""
    return render(
        request, "403_csrf.html", {"no_cookie": reason == REASON_NO_CSRF_COOKIE}, status=403
    )
