"""The app's URLs plus two pages that fail, for the 500-page tests (tests only)."""

from django.contrib.auth import get_user_model
from django.db import DatabaseError
from django.urls import path

from apilo import urls as app_urls

QUERIES_WHEN_FAILED: list[int] = []


def reads_the_database(request):
    get_user_model().objects.count()  # refused while the database is down
    raise AssertionError("the database answered")


def tenant_page_that_fails(request, tenant_slug):
    from django.db import connection

    QUERIES_WHEN_FAILED.append(len(connection.queries))
    raise DatabaseError("connection lost")


urlpatterns = [
    path("boom/", reads_the_database),
    path("app/<slug:tenant_slug>/boom/", tenant_page_that_fails),
    *app_urls.urlpatterns,
]
handler500 = app_urls.handler500
