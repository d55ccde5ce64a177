"""Administracja → Klucze API (namespace administration:api_keys), under /app/<tenant>/."""

from django.urls import path

from api import views_keys

urlpatterns = [
    path("", views_keys.key_list, name="list"),
    path("new/", views_keys.create, name="create"),
    path("<int:api_key_id>/revoke/", views_keys.revoke, name="revoke"),
]
