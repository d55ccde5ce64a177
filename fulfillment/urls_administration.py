"""Administracja pages of the fulfillment app, included by apilo/urls.py under
/app/<tenant_slug>/administration/fulfillment/ (namespace "administration:fulfillment").
``channel_id`` → channels.SalesChannel, ``push_id`` → fulfillment.FulfillmentPush,
``account_id`` → fulfillment.CourierAccount."""

from django.urls import path

from fulfillment import views_administration as views
from fulfillment import views_couriers

urlpatterns = [
    path("channels/<int:channel_id>/", views.channel_settings, name="settings"),
    path("channels/<int:channel_id>/pushes/", views.channel_pushes, name="pushes"),
    path("channels/<int:channel_id>/pushes/retry/", views.retry_failed, name="retry_failed"),
    path("pushes/<int:push_id>/retry/", views.retry_push, name="retry"),
    path("couriers/", views_couriers.courier_list, name="couriers"),
    path("couriers/add/", views_couriers.courier_edit, name="courier_add"),
    path("couriers/<int:account_id>/", views_couriers.courier_edit, name="courier_edit"),
    path("couriers/<int:account_id>/delete/", views_couriers.courier_delete, name="courier_delete"),
]
