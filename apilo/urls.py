"""URL map. Tenant pages live under /app/<tenant-slug>/ (core.middleware resolves the tenant and
runs the view in its scope); pages under the "administration" namespace are for administrators
only (also enforced by the middleware)."""

from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path

from api import views as api_views
from channels import urls_administration as channel_administration
from core import views as core_views
from core import views_health
from notifications import urls_administration as notification_administration
from notifications import urls_templates as template_administration
from notifications import views_templates as template_views
from orders import urls as order_urls
from sync import urls_administration as sync_administration
from sync import views as sync_views

administration_patterns: list[URLPattern | URLResolver] = [
    # A channel's pages and its order sync's parts (sync/, a floor above channels) share the
    # prefix and the "channels" namespace.
    path(
        "channels/",
        include(
            (
                channel_administration.urlpatterns
                + sync_administration.urlpatterns
                + notification_administration.channel_patterns,
                "channels",
            )
        ),
    ),
    path("statuses/", include(("orders.urls_administration", "statuses"))),
    path("users/", include(("core.urls_administration", "users"))),
    path("api-keys/", include(("api.urls_administration", "api_keys"))),
    path("webhooks/", include(("api.urls_webhooks", "webhooks"))),
    path("fulfillment/", include(("fulfillment.urls_administration", "fulfillment"))),
    path("mailboxes/", include((notification_administration.mailbox_patterns, "mailboxes"))),
    path("sent-mail/", include((notification_administration.log_patterns, "mail_log"))),
    path("templates/", include((template_administration.urlpatterns, "templates"))),
]

# The dashboard is sync's (the floor that sees orders and their sync) and keeps its name in the
# orders namespace.
order_patterns: list[URLPattern | URLResolver] = [
    path("dashboard/", sync_views.dashboard, name="dashboard"),
    *order_urls.urlpatterns,
]

tenant_patterns: list[URLPattern | URLResolver] = [
    # A company's home is its dashboard: orders per day and the health of its channels.
    path("", sync_views.dashboard, name="tenant_home"),
    path("orders/", include((order_patterns, "orders"))),
    path("fulfillment/", include(("fulfillment.urls", "fulfillment"))),
    path("catalog/", include(("catalog.urls", "catalog"))),
    path("administration/", include((administration_patterns, "administration"))),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", views_health.healthz, name="healthz"),
    path("accounts/", include("core.urls_accounts")),
    # Tenant-less: the OAuth callback URL registered at Allegro is one per deployment.
    path("channels/", include("channels.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    # The customer zone: a buyer's order page, public, the token its only credential.
    path("o/<str:token>", template_views.customer_zone_page, name="customer_zone"),
    path("app/<slug:tenant_slug>/", include(tenant_patterns)),
    # The REST API: a company's key, not a session, says whose data it is.
    path("api/v1/", include("api.urls")),
    # Any other version or path under /api/: the API's JSON 404, not the HTML page.
    path("api/", api_views.unknown_path, name="api_root"),
    path("api/<path:rest>", api_views.unknown_path, name="api_unknown"),
    path("admin/", admin.site.urls),
]

# Our own error pages (templates/403.html, 404.html, 500.html); the 500 page renders without the
# database. The CSRF failure page is settings.CSRF_FAILURE_VIEW.
handler500 = "core.views_errors.server_error"
