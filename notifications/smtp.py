"""One SMTP delivery with smtplib, and what the server answered, classified.

smtplib directly rather than Django's backend: the log shows the server's reply code and text,
and the sender decides from them whether to try again. No database here.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass

from notifications.models import MailboxSecurity, MailProblem


@dataclass(frozen=True)
class SMTPConfig:
    host: str
    port: int
    security: str  # MailboxSecurity
    username: str
    password: str
    timeout: float


@dataclass(frozen=True)
class Reply:
    """The outcome of one try: ``delivered`` (the server took the message: code 2xx), or the
    problem, with ``retry`` when it may pass."""

    delivered: bool
    code: int | None
    text: str
    problem: str = ""  # MailProblem
    retry: bool = False


def _said(response: bytes | str) -> str:
    text = response.decode("utf-8", "replace") if isinstance(response, bytes) else str(response)
    return " ".join(text.split())[:1000]


def _refused(code: int, response: bytes | str) -> Reply:
    if 400 <= code < 500:
        return Reply(False, code, _said(response), MailProblem.TEMPORARY, retry=True)
    if code in (530, 534, 535, 538):
        return Reply(False, code, _said(response), MailProblem.AUTH)
    return Reply(False, code, _said(response), MailProblem.PERMANENT)


def _connect(config: SMTPConfig) -> smtplib.SMTP:
    if config.security == MailboxSecurity.SSL:
        return smtplib.SMTP_SSL(
            config.host,
            config.port,
            timeout=config.timeout,
            context=ssl.create_default_context(),
        )
    client = smtplib.SMTP(config.host, config.port, timeout=config.timeout)
    client.ehlo_or_helo_if_needed()
    if config.security == MailboxSecurity.STARTTLS:
        if not client.has_extn("starttls"):
            client.close()
            raise smtplib.SMTPNotSupportedError("The server does not offer STARTTLS.")
        code, response = client.starttls(context=ssl.create_default_context())
        if code != 220:
            client.close()
            raise smtplib.SMTPResponseException(code, response)
        client.ehlo()
    return client


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in with one mechanism: smtplib's login() tries each in turn, and a server may not
    answer a second attempt after refusing the first (the refusal is what we want to show)."""
    advertised = client.esmtp_features.get("auth", "").upper().split()
    for mechanism in ("PLAIN", "LOGIN"):
        if mechanism in advertised:
            client.user, client.password = username, password
            client.auth(mechanism, getattr(client, f"auth_{mechanism.lower()}"))
            return
    client.login(username, password)


def _disconnected(error: smtplib.SMTPServerDisconnected) -> Reply:
    # smtplib reports a read that timed out as a disconnection: it is a timeout.
    if isinstance(error.__cause__ or error.__context__, TimeoutError):
        return Reply(False, None, "", MailProblem.TIMEOUT, retry=True)
    return Reply(False, None, _said(str(error)), MailProblem.DISCONNECTED, retry=True)


def deliver(config: SMTPConfig, *, envelope_from: str, to: str, message: bytes) -> Reply:
    """Send ``message`` to ``to`` and say what happened. Never raises for the server's doing."""
    try:
        client = _connect(config)
    except smtplib.SMTPNotSupportedError as error:
        # Security required but the server offers none: a setting to fix, not a passing fault.
        return Reply(False, None, _said(str(error)), MailProblem.TLS)
    except ssl.SSLCertVerificationError as error:
        return Reply(False, None, _said(error.verify_message or str(error)), MailProblem.TLS)
    except ssl.SSLError as error:
        return Reply(False, None, _said(str(error)), MailProblem.TLS, retry=True)
    except smtplib.SMTPResponseException as error:
        return _refused(error.smtp_code, error.smtp_error)
    except smtplib.SMTPServerDisconnected as error:
        return _disconnected(error)
    except TimeoutError:
        return Reply(False, None, "", MailProblem.TIMEOUT, retry=True)
    except OSError as error:
        return Reply(False, None, _said(str(error)), MailProblem.UNREACHABLE, retry=True)
    try:
        client.ehlo_or_helo_if_needed()
        if config.username:
            _login(client, config.username, config.password)
        code, response = client.mail(envelope_from)
        if code != 250:
            return _refused(code, response)
        code, response = client.rcpt(to)
        if code not in (250, 251):
            return _refused(code, response)
        code, response = client.data(message)
        if code != 250:
            return _refused(code, response)
        return Reply(True, code, _said(response))
    except smtplib.SMTPAuthenticationError as error:
        return Reply(False, error.smtp_code, _said(error.smtp_error), MailProblem.AUTH)
    except smtplib.SMTPNotSupportedError as error:
        return Reply(False, None, _said(str(error)), MailProblem.AUTH)
    except smtplib.SMTPResponseException as error:
        return _refused(error.smtp_code, error.smtp_error)
    except smtplib.SMTPServerDisconnected as error:
        return _disconnected(error)
    except TimeoutError:
        return Reply(False, None, "", MailProblem.TIMEOUT, retry=True)
    except ssl.SSLError as error:
        return Reply(False, None, _said(str(error)), MailProblem.TLS, retry=True)
    except OSError as error:
        return Reply(False, None, _said(str(error)), MailProblem.DISCONNECTED, retry=True)
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()
