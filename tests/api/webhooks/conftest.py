from __future__ import annotations

import pytest

from tests.api.webhooks.helpers import Receiver, serve


@pytest.fixture
def receiver_with():
    """receiver_with(statuses=[500], hold_first=False) → a Receiver listening on 127.0.0.1."""
    servers = []

    def start(**kw) -> Receiver:
        receiver = Receiver(**kw)
        servers.append((serve(receiver), receiver))
        return receiver

    yield start
    for server, receiver in servers:
        receiver.release.set()
        server.shutdown()
        server.server_close()
