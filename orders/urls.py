"""Order pages of a tenant: included by apilo/urls.py under /app/<tenant_slug>/orders/ with the
"orders" namespace (which also holds the dashboard, sync/views.py, joined in apilo/urls.py)."""

from django.urls import path

from orders import views

urlpatterns = [
    path("", views.order_list, name="list"),
    path("rows/", views.order_rows, name="rows"),
    path("bulk-status/", views.bulk_status, name="bulk_status"),
    path("<int:order_id>/", views.order_detail, name="detail"),
    path("<int:order_id>/status/", views.change_status, name="change_status"),
    path("<int:order_id>/resolve-alert/", views.resolve_alert, name="resolve_alert"),
]
