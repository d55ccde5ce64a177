"""pytest plugin: a real SMTP server (aiosmtpd) on loopback that the app sends its mail to.

Register it in tests/conftest.py with ``pytest_plugins = ["tests.mail_support"]``. Then::

    def test_welcome_mail(client, smtp_server, transactional_db):
        client.post(reverse("signup"), {...})
        [mail] = smtp_server.wait_for(1)
        assert mail.to == ["anna@example.com"]
        assert mail.subject == "Welcome to apilo: Sklep Anny is ready"
        assert "https://apilo.example/app/anna/" in mail.text
        response = client.get(mail.first_link())

Fixture ``smtp_server`` (function scope) points Django at the server: EMAIL_BACKEND is
``django.core.mail.backends.smtp.EmailBackend`` with EMAIL_HOST/EMAIL_PORT of the server, no
TLS, no login (through pytest-django's ``settings`` fixture, so it is undone after the test).
It starts with an empty mailbox. One server runs for the whole session (``_smtp_controller``).
Every mail goes through the outbox (notifications.OutgoingMail); under this fixture its send
task runs eagerly (Celery's ``task_always_eager``) when the row's transaction commits, so a
mail of a request has arrived when the request returns, as before the outbox. Tests of the
outbox's own sending use ``mail_outbox_async`` to keep tasks on the broker.

What it gives you (:class:`SMTPServer`):

- ``messages``: every message received since the test started, oldest first, each a
  :class:`ReceivedMail` — an ``email.message.EmailMessage`` (``policy.default``) plus:
  ``to`` (list of addresses in the To header), ``subject``, ``text`` (the text/plain body,
  decoded), ``html`` (the text/html body or None), ``links`` (every http(s) URL in the text
  body, in order), ``first_link(startswith="")``, and the SMTP envelope
  (``envelope_from``, ``envelope_to``).
- ``wait_for(count, timeout=5)``: the first ``count`` messages, waiting for them to arrive.
  Mail sent synchronously is already there when the request returns; asynchronous senders
  (Celery workers) need the wait. Fails the test with what did arrive on timeout.
- ``clear()``: forget the messages received so far.
- ``host``, ``port``.

Mail is sent by our code after the transaction commits (``transaction.on_commit``). Under the
plain ``db`` fixture nothing ever commits, so either use ``transactional_db`` or wrap the
request in pytest-django's ``django_capture_on_commit_callbacks(execute=True)``.
"""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery import current_app

LINK_RE = re.compile(r"https?://[^\s<>\"')\]]+")


class ReceivedMail(EmailMessage):
    """One received message: an EmailMessage with test-friendly accessors."""

    envelope_from: str = ""
    envelope_to: list[str]

    @property
    def to(self) -> list[str]:
        return [address for _name, address in getaddresses(self.get_all("To", []))]

    @property
    def subject(self) -> str:
        # strip(): the email package folds a long non-ASCII Subject right after "Subject:";
        # unfolding then leaves a leading space that is no part of the subject.
        return str(self.get("Subject", "")).strip()

    def _body(self, subtype: str) -> str | None:
        part = self.get_body(preferencelist=(subtype,))
        if part is None or part.get_content_subtype() != subtype:
            return None
        return part.get_content()

    @property
    def text(self) -> str:
        return self._body("plain") or ""

    @property
    def html(self) -> str | None:
        return self._body("html")

    @property
    def links(self) -> list[str]:
        return [link.rstrip(".,;:") for link in LINK_RE.findall(self.text)]

    def first_link(self, startswith: str = "") -> str:
        """The first URL in the text body (that starts with ``startswith``); fails if none."""
        for link in self.links:
            if link.startswith(startswith):
                return link
        raise AssertionError(f"No link starting with {startswith!r} in:\n{self.text}")


class _Handler:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = BytesParser(_class=ReceivedMail, policy=policy.default).parsebytes(
            envelope.content
        )
        message.envelope_from = envelope.mail_from
        message.envelope_to = list(envelope.rcpt_tos)
        self.server._received(message)
        return "250 Message accepted for delivery"


class SMTPServer:
    """The mailbox of the loopback SMTP server; see the module docstring."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self._messages: list[ReceivedMail] = []
        self._arrived = threading.Condition()

    def _received(self, message: ReceivedMail) -> None:
        with self._arrived:
            self._messages.append(message)
            self._arrived.notify_all()

    @property
    def messages(self) -> list[ReceivedMail]:
        with self._arrived:
            return list(self._messages)

    def clear(self) -> None:
        with self._arrived:
            self._messages.clear()

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[ReceivedMail]:
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self._messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = [(m.to, m.subject) for m in self._messages]
                    raise AssertionError(f"Expected {count} message(s) in {timeout}s, got {got}")
                self._arrived.wait(remaining)
            return list(self._messages[:count])


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def _smtp_controller():
    mailbox = SMTPServer()
    mailbox.port = _free_port(mailbox.host)
    controller = Controller(_Handler(mailbox), hostname=mailbox.host, port=mailbox.port)
    controller.start()
    try:
        yield mailbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(_smtp_controller: SMTPServer, settings: Any) -> Iterator[SMTPServer]:
    """A real SMTP server on 127.0.0.1 receiving the mail Django sends during this test."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = _smtp_controller.host
    settings.EMAIL_PORT = _smtp_controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    _smtp_controller.clear()
    eager = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    try:
        yield _smtp_controller
    finally:
        current_app.conf.task_always_eager = eager
        _smtp_controller.clear()
