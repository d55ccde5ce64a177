from __future__ import annotations

import pytest

from tests.api.helpers import key_of


@pytest.fixture
def write_key(tenant):
    return key_of(tenant)


@pytest.fixture
def read_key(tenant):
    return key_of(tenant, "read")


@pytest.fixture
def other_key(other_tenant):
    return key_of(other_tenant)
