"""Administracja → Użytkownicy (namespace administration:users), under /app/<tenant>/."""

from django.urls import path

from core import user_views

urlpatterns = [
    path("", user_views.user_list, name="list"),
    path("invite/", user_views.invite, name="invite"),
    path("<int:membership_id>/role/", user_views.change_role, name="change_role"),
    path("<int:membership_id>/remove/", user_views.remove, name="remove"),
    path(
        "invitations/<int:invitation_id>/revoke/",
        user_views.revoke_invitation,
        name="revoke_invitation",
    ),
]
