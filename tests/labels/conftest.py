"""Fixtures of the label tests: the push tests' sandbox world (a seller, the `local`
environment, a channel connected through the real OAuth flow) and a courier account."""

from __future__ import annotations

import pytest

from channels.models import SalesChannel
from fulfillment.models import CourierAccount
from tests.fulfillment.helpers import CHANNEL, SELLER_PASSWORD, PushEnv, configure
from tests.labels.helpers import courier_account
from tests.sandbox_support import SandboxControl
from tests.support.channels import make_channel
from tests.support.connect import connect


@pytest.fixture
def push_env(allegro_sandbox: SandboxControl, settings) -> PushEnv:
    env = configure(allegro_sandbox, settings)
    # commands finish at once on the sandbox clock unless a test says otherwise
    allegro_sandbox.wza(command_seconds=0, waybill_delay_seconds=0)
    return env


@pytest.fixture
def channel(tenant, admin_user, push_env) -> SalesChannel:
    form = {**CHANNEL, "default_shipment_comment": "Zamówienie {order.number} – dziękujemy!"}
    return connect(make_channel(tenant, form), admin_user, SELLER_PASSWORD)


@pytest.fixture
def account(channel) -> CourierAccount:
    return courier_account(channel)
