"""Administracja → Szablony wiadomości, included as the `administration:templates` namespace
under /app/<tenant_slug>/administration/templates/."""

from django.urls import path

from notifications import views_templates as views

urlpatterns = [
    path("", views.set_list, name="list"),
    path("new/", views.set_create, name="set_create"),
    path("<int:set_id>/", views.set_detail, name="set"),
    path("<int:set_id>/copy/", views.set_copy, name="set_copy"),
    path("<int:set_id>/delete/", views.set_delete, name="set_delete"),
    path("<int:set_id>/preview/", views.preview, name="preview"),
    path("<int:set_id>/send-test/", views.send_test, name="send_test"),
    path("<int:set_id>/templates/new/", views.template_create, name="template_create"),
    path("<int:set_id>/templates/<int:template_id>/", views.template_edit, name="template"),
    path(
        "<int:set_id>/templates/<int:template_id>/delete/",
        views.template_delete,
        name="template_delete",
    ),
    path(
        "channels/<int:channel_id>/categories/",
        views.channel_categories,
        name="channel_categories",
    ),
]
