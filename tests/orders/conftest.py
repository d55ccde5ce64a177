"""Fixtures for the statuses administration."""

from __future__ import annotations

import pytest


@pytest.fixture
def administrator_client(client, admin_user):
    """A browser session of the tenant's administrator."""
    client.force_login(admin_user)
    return client
