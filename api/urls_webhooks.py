"""Administracja → Webhooki (namespace administration:webhooks), under /app/<tenant>/."""

from django.urls import path

from api import views_webhooks

urlpatterns = [
    path("", views_webhooks.subscription_list, name="list"),
    path("new/", views_webhooks.create, name="create"),
    path("<int:subscription_id>/", views_webhooks.edit, name="edit"),
    path("<int:subscription_id>/deliveries/", views_webhooks.deliveries, name="deliveries"),
    path("<int:subscription_id>/active/", views_webhooks.set_active, name="set_active"),
    path("<int:subscription_id>/test/", views_webhooks.send_test, name="send_test"),
    path("<int:subscription_id>/delete/", views_webhooks.delete, name="delete"),
]
