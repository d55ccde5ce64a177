"""Produkty and Powiązania ofert, under /app/<tenant_slug>/catalog/ (namespace `catalog`)."""

from django.urls import URLPattern, URLResolver, path

from catalog import views_products as views

urlpatterns: list[URLPattern | URLResolver] = [
    path("products/", views.product_list, name="products"),
    path("products/new/", views.product_create, name="product_create"),
    path("products/delete/", views.products_bulk_delete, name="products_bulk_delete"),
    path("products/<int:product_id>/", views.product_detail, name="product"),
    path("products/<int:product_id>/edit/", views.product_edit, name="product_edit"),
    path("products/<int:product_id>/delete/", views.product_delete, name="product_delete"),
    path("linking/", views.linking_screen, name="linking"),
    path("linking/link/", views.link_offers, name="link_offers"),
    path("linking/unlink/", views.unlink_offers, name="unlink_offers"),
    path("linking/products/", views.products_from_offers, name="products_from_offers"),
]
