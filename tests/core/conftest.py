"""Fixtures of the core tests (smtp_server comes from tests/mail_support.py)."""

import pytest
from django.contrib.auth import get_user_model
from django_scopes import scopes_disabled

from core.models import Invitation, Membership, Tenant


@pytest.fixture
def english(client):
    """Pages and mails in English, whatever LANGUAGE_CODE and the compiled catalogues say."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def row_counts():
    """`row_counts()` → (users, tenants, memberships, invitations): compare before and after
    a refused action to prove nothing was written."""

    def count() -> tuple[int, int, int, int]:
        with scopes_disabled():
            return (
                get_user_model().objects.count(),
                Tenant.objects.count(),
                Membership.objects.count(),
                Invitation.objects.count(),
            )

    return count
