"""Administracja → Statusy zamówień, included as the `administration:statuses` namespace under
/app/<tenant_slug>/administration/statuses/."""

from django.urls import path

from orders import views_statuses as views

urlpatterns = [
    path("", views.status_list, name="list"),
    path("new/", views.status_create, name="create"),
    path("<int:status_id>/", views.status_edit, name="edit"),
    path("<int:status_id>/delete/", views.status_delete, name="delete"),
    path("<int:status_id>/deactivate/", views.status_deactivate, name="deactivate"),
    path("<int:status_id>/activate/", views.status_activate, name="activate"),
    path("<int:status_id>/move/", views.status_move, name="move"),
]
