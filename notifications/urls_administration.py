"""Administracja → Skrzynki pocztowe (`administration:mailboxes`) and Wysłane wiadomości
(`administration:mail_log`), under /app/<tenant>/administration/."""

from django.urls import path

from notifications import views

mailbox_patterns = [
    path("", views.mailbox_list, name="list"),
    path("new/", views.mailbox_create, name="create"),
    path("<int:mailbox_id>/", views.mailbox_edit, name="edit"),
    path("<int:mailbox_id>/test/", views.mailbox_test, name="test"),
    path("<int:mailbox_id>/delete/", views.mailbox_delete, name="delete"),
]

log_patterns = [
    path("", views.mail_log, name="list"),
    path("<int:mail_id>/", views.mail_detail, name="detail"),
]

# Joined to the channel pages' "channels" namespace (apilo/urls.py).
channel_patterns = [
    path(
        "<int:channel_id>/sender-address/register/",
        views.register_sender,
        name="register_sender",
    ),
    path("<int:channel_id>/sender-address/refresh/", views.refresh_senders, name="refresh_senders"),
]
