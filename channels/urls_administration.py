"""Administracja → Kanały sprzedaży, under /app/<tenant>/administration/channels/ (namespace
"administration:channels"). ``channel_id`` is a SalesChannel id, looked up via the scoped
manager. The order sync's parts of a channel's page (sync/urls_administration.py) join these in
apilo/urls.py."""

from django.urls import path

from channels import views

urlpatterns = [
    path("", views.channel_list, name="list"),
    path("add/", views.channel_create, name="create"),
    path("<int:channel_id>/", views.channel_detail, name="detail"),
    path("<int:channel_id>/edit/", views.channel_edit, name="edit"),
    path("<int:channel_id>/authorize/", views.channel_authorize, name="authorize"),
    path("<int:channel_id>/deactivate/", views.channel_deactivate, name="deactivate"),
    path("<int:channel_id>/activate/", views.channel_activate, name="activate"),
    path("<int:channel_id>/delete/", views.channel_delete, name="delete"),
]
