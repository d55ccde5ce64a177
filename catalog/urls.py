"""The catalogue's pages under /app/<slug>/catalog/: offers, products and their stock."""

from django.urls import URLPattern, URLResolver

from catalog import urls_offers, urls_products, urls_stock

urlpatterns: list[URLPattern | URLResolver] = [
    *urls_offers.urlpatterns,
    *urls_products.urlpatterns,
    *urls_stock.urlpatterns,
]
