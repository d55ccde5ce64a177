"""Administracja pages of the fulfillment app, included by apilo/urls.py under
/app/<tenant_slug>/administration/fulfillment/ (namespace "administration:fulfillment").
``channel_id`` → channels.SalesChannel, ``push_id`` → fulfillment.FulfillmentPush,
``account_id`` → fulfillment.CourierAccount."""

from django.urls import path

from fulfillment import views_couriers, views_mappings, views_pushes

urlpatterns = [
    path("channels/<int:channel_id>/", views_mappings.channel_settings, name="settings"),
    path("channels/<int:channel_id>/pushes/", views_pushes.channel_pushes, name="pushes"),
    path("channels/<int:channel_id>/pushes/retry/", views_pushes.retry_failed, name="retry_failed"),
    path("pushes/<int:push_id>/retry/", views_pushes.retry_push, name="retry"),
    path("couriers/", views_couriers.courier_list, name="couriers"),
    path("couriers/add/", views_couriers.courier_edit, name="courier_add"),
    path("couriers/<int:account_id>/", views_couriers.courier_edit, name="courier_edit"),
    path("couriers/<int:account_id>/delete/", views_couriers.courier_delete, name="courier_delete"),
]
