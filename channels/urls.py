"""Tenant-less channel URLs under /channels/: the OAuth redirect URI registered at Allegro is one
per deployment, so the tenant and channel come from the state bound to the session."""

from django.urls import path

from channels import views

urlpatterns = [
    path("allegro/callback/", views.allegro_callback, name="allegro_callback"),
]
