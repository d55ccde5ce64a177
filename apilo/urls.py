"""URL map. Tenant pages live under /app/<tenant-slug>/ (core.middleware resolves the tenant and
runs the view in its scope); pages under the "administration" namespace are for administrators
only (also enforced by the middleware)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from core import views as core_views
from orders import views as order_views

administration_patterns: list[URLPattern | URLResolver] = [
    path("channels/", include(("channels.urls_administration", "channels"))),
    path("statuses/", include(("orders.urls_administration", "statuses"))),
    path("users/", include(("core.urls_administration", "users"))),
    path("fulfillment/", include(("fulfillment.urls_administration", "fulfillment"))),
]

tenant_patterns: list[URLPattern | URLResolver] = [
    # A company's home is its dashboard: orders per day and the health of its channels.
    path("", order_views.dashboard, name="tenant_home"),
    path("orders/", include(("orders.urls", "orders"))),
    path("fulfillment/", include(("fulfillment.urls", "fulfillment"))),
    path("administration/", include((administration_patterns, "administration"))),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("core.urls_accounts")),
    # Tenant-less: the OAuth callback URL registered at Allegro is one per deployment.
    path("channels/", include("channels.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("app/<slug:tenant_slug>/", include(tenant_patterns)),
    path("admin/", admin.site.urls),
]

# Our own error pages (templates/403.html, 404.html, 500.html); the 500 page renders without the
# database. The CSRF failure page is settings.CSRF_FAILURE_VIEW.
handler500 = "core.views_errors.server_error"
