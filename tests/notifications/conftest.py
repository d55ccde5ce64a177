"""Fixtures of the messages tests: a channel stored as connected with its template set, and
(re-exported from the sync tests) the sandbox seller and a channel connected to it."""

from __future__ import annotations

import pytest
from django_scopes import scope

from channels.models import SalesChannel
from tests.support.channels import channel_of
from tests.support.notifications import set_of
from tests.sync.conftest import SyncEnv, allegro_app_options, channel, sync_env  # noqa: F401


@pytest.fixture
def template_set(tenant):
    return set_of(tenant)


@pytest.fixture
def shop(tenant, template_set) -> SalesChannel:
    """The tenant's Allegro channel (stored connected, no Allegro behind it) using the test set,
    with the customer zone on."""
    stored = channel_of(tenant)
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=stored.pk).update(
            template_set=template_set, customer_zone=True
        )
        stored.refresh_from_db()
    return stored
