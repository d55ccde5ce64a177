"""Order-level fulfillment pages, included by apilo/urls.py under /app/<tenant_slug>/fulfillment/
with the "fulfillment" namespace. ``order_id`` → orders.Order, ``push_id`` →
fulfillment.FulfillmentPush, ``job_id`` → fulfillment.LabelJob, ``batch_id`` →
fulfillment.LabelBatch, ``pickup_id`` → fulfillment.CourierPickup, ``protocol_id`` →
fulfillment.HandoverProtocol, all looked up through scoped managers."""

from django.urls import path

from fulfillment import views, views_labels

urlpatterns = [
    path("orders/<int:order_id>/shipments/add/", views.add_shipment, name="add_shipment"),
    path("pushes/<int:push_id>/retry/", views.retry_push, name="retry_push"),
    path("orders/<int:order_id>/label/", views_labels.label_page, name="label"),
    path(
        "orders/<int:order_id>/label/proposal/",
        views_labels.refresh_proposal,
        name="label_proposal",
    ),
    path("orders/<int:order_id>/labels/", views_labels.label_panel, name="label_panel"),
    path("labels/<int:job_id>/file/", views_labels.label_file, name="label_file"),
    path("labels/<int:job_id>/cancel/", views_labels.label_cancel, name="label_cancel"),
    path("labels/<int:job_id>/retry/", views_labels.label_retry, name="label_retry"),
    path("labels/bulk/", views_labels.bulk_labels, name="bulk_labels"),
    path("labels/batches/<int:batch_id>/", views_labels.label_batch, name="label_batch"),
    path("labels/batches/<int:batch_id>/file/", views_labels.batch_file, name="batch_file"),
    path(
        "labels/batches/<int:batch_id>/protocol/",
        views_labels.batch_protocol,
        name="batch_protocol",
    ),
    path(
        "labels/batches/<int:batch_id>/protocol/file/",
        views_labels.batch_protocol_file,
        name="batch_protocol_file",
    ),
    path("pickups/new/", views_labels.new_pickup, name="new_pickup"),
    path("pickups/<int:pickup_id>/", views_labels.pickup_page, name="pickup"),
    path("pickups/<int:pickup_id>/order/", views_labels.pickup_order, name="pickup_order"),
    path("protocols/", views_labels.day_protocols, name="day_protocols"),
    path(
        "protocols/<int:protocol_id>/file/",
        views_labels.day_protocol_file,
        name="day_protocol_file",
    ),
]
