"""/api/v1/ (namespace "api"): the endpoints, the OpenAPI schema and its two readers."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from api import views, views_docs, views_webhooks_api

app_name = "api"

urlpatterns = [
    path("orders/", views.OrderList.as_view(), name="orders"),
    path("orders/<int:order_id>/", views.OrderDetail.as_view(), name="order"),
    path("orders/<int:order_id>/status/", views.OrderStatusChange.as_view(), name="order_status"),
    path("statuses/", views.StatusList.as_view(), name="statuses"),
    path("channels/", views.ChannelList.as_view(), name="channels"),
    path("webhooks/", views_webhooks_api.WebhookList.as_view(), name="webhooks"),
    path("webhooks/<int:webhook_id>/", views_webhooks_api.WebhookDetail.as_view(), name="webhook"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", views_docs.swagger, name="docs"),
    path("redoc/", views_docs.redoc, name="redoc"),
]
