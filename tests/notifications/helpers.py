"""Faulty real SMTP servers (aiosmtpd on loopback) and the outbox's drain for these tests."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from email import policy
from email.parser import BytesParser
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django_scopes import scopes_disabled

from notifications import sender
from notifications.models import OutgoingMail
from tests.mail_support import ReceivedMail

USER, PASSWORD = "sklep", "tajne-haslo"
SELLER, SELLER_PASSWORD, SELLER_ID = "mail-seller", "mail-password-1", "71000001"
# The channel form of these tests (tests.support.channels.make_channel).
CHANNEL = {"name": "Allegro sklep", "alias": "AM", "allegro_login": SELLER, "backfill_days": 0}


class FaultyHandler:
    """An SMTP server's DATA step: ``mode`` says how it misbehaves for the first ``faults``
    messages (then it accepts): "healthy", "4xx", "5xx", "drop" (closes the connection
    mid-DATA, before answering, without keeping the message), "hang_after_accept" (keeps the
    message, then waits ``hang`` seconds before its 250: a sender killed meanwhile never
    hears it)."""

    def __init__(self, mode: str = "healthy", faults: int = 0, hang: float = 60.0) -> None:
        self.mode = mode
        self.faults = faults
        self.hang = hang
        self.seen = 0  # DATA commands received
        self.messages: list[ReceivedMail] = []
        self.arrived = threading.Condition()

    def _keep(self, envelope: Any) -> None:
        message = BytesParser(_class=ReceivedMail, policy=policy.default).parsebytes(
            envelope.content
        )
        message.envelope_from = envelope.mail_from
        message.envelope_to = list(envelope.rcpt_tos)
        with self.arrived:
            self.messages.append(message)
            self.arrived.notify_all()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.seen += 1
        faulty = self.seen <= self.faults
        if faulty and self.mode == "4xx":
            return "451 4.3.0 Mailbox busy, try again later"
        if faulty and self.mode == "5xx":
            return "550 5.7.1 Message rejected as spam"
        if faulty and self.mode == "drop":
            server.transport.close()
            return "421 closing"  # never reaches the client: the connection is gone
        self._keep(envelope)
        if faulty and self.mode == "hang_after_accept":
            await asyncio.sleep(self.hang)
        return "250 2.0.0 Ok: queued as X42"

    def wait_for(self, count: int, timeout: float = 10.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        with self.arrived:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} messages, got {len(self.messages)}")
                self.arrived.wait(remaining)
            return list(self.messages)


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USER.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FaultySMTP:
    """A started aiosmtpd server with a FaultyHandler; ``auth``: LOGIN/PLAIN required."""

    def __init__(self, handler: FaultyHandler, *, auth: bool = False) -> None:
        self.handler = handler
        self.host = "127.0.0.1"
        self.port = free_port()
        kwargs: dict[str, Any] = {}
        if auth:
            kwargs = {
                "authenticator": _authenticator,
                "auth_require_tls": False,
                "auth_required": True,
            }
        self.controller = Controller(handler, hostname=self.host, port=self.port, **kwargs)

    def start(self) -> FaultySMTP:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


class SilentServer:
    """Accepts TCP connections and never says a word: a server too slow to answer."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.host, self.port = self.sock.getsockname()
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def stop(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


def drain(limit: int = 100) -> int:
    """Send every due row, again and again until none is due (retries are due at once in
    these tests: MAIL_RETRY_BASE_SECONDS = 0). Returns the number of tries made."""
    tries = 0
    for _ in range(limit):
        due = sender.due_ids(1000)
        if not due:
            return tries
        for _tenant, mail_id in due:
            sender.send(mail_id)
            tries += 1
    raise AssertionError("the outbox never emptied")


def rows() -> list[OutgoingMail]:
    with scopes_disabled():
        return list(OutgoingMail.objects.order_by("id"))
