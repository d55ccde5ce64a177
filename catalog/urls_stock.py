from django.urls import URLPattern, URLResolver, path

from catalog import views_stock

urlpatterns: list[URLPattern | URLResolver] = [
    path("products/<int:product_id>/stock/", views_stock.product_stock, name="product_stock"),
    path(
        "products/<int:product_id>/stock/change/",
        views_stock.change_stock,
        name="product_stock_change",
    ),
    path(
        "channels/<int:channel_id>/stock-push/",
        views_stock.stock_push_switch,
        name="stock_push_switch",
    ),
]
