"""The offers list and a channel's offer import, under /app/<slug>/catalog/."""

from django.urls import URLPattern, URLResolver, path

from catalog import views_offers

urlpatterns: list[URLPattern | URLResolver] = [
    path("offers/", views_offers.offer_list, name="offers"),
    path(
        "channels/<int:channel_id>/offers/import/",
        views_offers.offers_import,
        name="offers_import",
    ),
    path(
        "channels/<int:channel_id>/offers/progress/",
        views_offers.offers_progress,
        name="offers_progress",
    ),
]
