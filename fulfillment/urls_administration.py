"""Administracja pages of the fulfillment app, included by apilo/urls.py under
/app/<tenant_slug>/administration/fulfillment/ (namespace "administration:fulfillment").
``channel_id`` → channels.SalesChannel, ``push_id`` → fulfillment.FulfillmentPush."""

from django.urls import path

from fulfillment import views_mappings, views_pushes

urlpatterns = [
    path("channels/<int:channel_id>/", views_mappings.channel_settings, name="settings"),
    path("channels/<int:channel_id>/pushes/", views_pushes.channel_pushes, name="pushes"),
    path("channels/<int:channel_id>/pushes/retry/", views_pushes.retry_failed, name="retry_failed"),
    path("pushes/<int:push_id>/retry/", views_pushes.retry_push, name="retry"),
]
