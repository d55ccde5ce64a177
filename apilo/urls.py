"""URL map. Tenant pages live under /app/<tenant-slug>/ (core.middleware resolves the tenant);
pages under the "administration" namespace are for administrators only."""

from django.contrib import admin
from django.urls import include, path

from core import views as core_views

administration_patterns = [
    path("statuses/", include("orders.urls_administration")),
    path("users/", include("core.urls_administration")),
]

tenant_patterns = [
    path("", core_views.tenant_home, name="tenant_home"),
    path("administration/", include((administration_patterns, "administration"))),
]

urlpatterns = [
    path("", core_views.home, name="home"),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("core.urls_accounts")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("app/<slug:tenant_slug>/", include(tenant_patterns)),
    path("admin/", admin.site.urls),
]
