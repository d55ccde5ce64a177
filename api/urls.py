"""/api/v1/ (namespace "api"): the endpoints, the OpenAPI schema and its two readers."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from api import views, views_catalog, views_docs, views_webhooks_api

app_name = "api"

urlpatterns = [
    path("orders/", views.OrderList.as_view(), name="orders"),
    path("orders/status/", views.OrderBulkStatusChange.as_view(), name="orders_status"),
    path("orders/<int:order_id>/", views.OrderDetail.as_view(), name="order"),
    path("orders/<int:order_id>/status/", views.OrderStatusChange.as_view(), name="order_status"),
    path("orders/<int:order_id>/shipments/", views.OrderShipments.as_view(), name="shipments"),
    path("orders/<int:order_id>/labels/", views.OrderLabels.as_view(), name="labels"),
    path("labels/<int:label_id>/file/", views.LabelFile.as_view(), name="label_file"),
    path("statuses/", views.StatusList.as_view(), name="statuses"),
    path("channels/", views.ChannelList.as_view(), name="channels"),
    path("webhooks/", views_webhooks_api.WebhookList.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>/", views_webhooks_api.WebhookDetail.as_view(), name="webhook"),
    path(
        "channels/<int:channel_id>/carriers/", views.ChannelCarrierList.as_view(), name="carriers"
    ),
    path("mail/", views.MailList.as_view(), name="mail"),
    path("events/", views.EventFeed.as_view(), name="events"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views_docs.swagger, name="docs"),
    path("redoc/", views_docs.redoc, name="redoc"),
    # The catalogue: offers, products and their stock.
    path("offers/", views_catalog.OfferList.as_view(), name="offers"),
    path("offers/<int:offer_id>/", views_catalog.OfferDetail.as_view(), name="offer"),
    path("products/", views_catalog.ProductList.as_view(), name="products"),
    path("products/<int:product_id>/", views_catalog.ProductDetail.as_view(), name="product"),
    path(
        "products/<int:product_id>/stock/",
        views_catalog.ProductStock.as_view(),
        name="product_stock",
    ),
    path(
        "products/<int:product_id>/stock-changes/",
        views_catalog.ProductStockChanges.as_view(),
        name="product_stock_changes",
    ),
    # Last: every other path under /api/v1/ answers the API's JSON 404.
    re_path(r"^", views.unknown_path, name="unknown"),
]
