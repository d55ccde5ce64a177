"""Fixtures of the orders domain: channels of both tenants, checkout forms, logged-in clients."""

from __future__ import annotations

import pytest

from tests.support.channels import channel_of
from tests.support.orders import checkout_form


@pytest.fixture
def channel(tenant):
    return channel_of(tenant, "AL")


@pytest.fixture
def other_channel(other_tenant):
    return channel_of(other_tenant, "BE", "Beta Allegro")


@pytest.fixture
def form():
    return checkout_form()


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
