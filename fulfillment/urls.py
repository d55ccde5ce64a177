"""Order-level fulfillment pages, included by apilo/urls.py under /app/<tenant_slug>/fulfillment/
with the "fulfillment" namespace. ``order_id`` → orders.Order, ``push_id`` →
fulfillment.FulfillmentPush, both looked up through scoped managers."""

from django.urls import path

from fulfillment import views

urlpatterns = [
    path("orders/<int:order_id>/shipments/add/", views.add_shipment, name="add_shipment"),
    path("pushes/<int:push_id>/retry/", views.retry_push, name="retry_push"),
]
