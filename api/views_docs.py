"""The API's documentation pages: Swagger UI and Redoc, served from drf-spectacular-sidecar's
static files (no CDN). Our templates have no inline script and no web fonts; the two readers
inject their own styles (and Redoc a worker), so only these pages allow that in their CSP.
They show the schema, never a company's data."""

from __future__ import annotations

from csp.decorators import csp_update
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerSplitView

DOCS_CSP = {
    "style-src": ["'unsafe-inline'"],
    "worker-src": ["'self'", "blob:"],
    "img-src": ["data:"],
}

swagger = csp_update(DOCS_CSP)(
    SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", template_name="api/docs/swagger_ui.html"
    )
)
redoc = csp_update(DOCS_CSP)(
    SpectacularRedocView.as_view(url_name="api:schema", template_name="api/docs/redoc.html")
)
