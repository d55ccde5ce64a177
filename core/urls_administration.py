"""Administracja → Użytkownicy (namespace administration:users), under /app/<tenant>/."""

from django.urls import path

from core import views_users

urlpatterns = [
    path("", views_users.user_list, name="list"),
    path("invite/", views_users.invite, name="invite"),
    path("<int:membership_id>/role/", views_users.change_role, name="change_role"),
    path("<int:membership_id>/remove/", views_users.remove, name="remove"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        views_users.revoke_invitation,
        name="revoke_invitation",
    ),
]
