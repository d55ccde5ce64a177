"""The order sync's part of a channel's page, under
/app/<tenant>/administration/channels/<channel_id>/sync/ in the "administration:channels"
namespace: apilo/urls.py joins these to channels/urls_administration.py, so the channel pages
and their sync parts share one prefix and one namespace while channels never imports sync."""

from django.urls import path

from sync import views

urlpatterns = [
    path("<int:channel_id>/sync/", views.sync_health, name="sync_health"),
    path("<int:channel_id>/sync/backfill/", views.backfill_progress, name="backfill_progress"),
    path("<int:channel_id>/sync/reimport/", views.reimport, name="reimport"),
]
