"""Which webhook addresses may be called: http or https only, and a host that resolves only to
public addresses (no private, loopback, link-local, multicast, reserved or unspecified ones),
checked when a subscription is saved and again before every attempt, whose connection then goes
to the address that was checked (a name that resolves elsewhere the second time, DNS
rebinding, cannot reach the internal network). ``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`` lifts the
network rule for deployments whose receivers live on a private network."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from api.webhooks.errors import WebhookError

SCHEMES = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Target:
    """Where one attempt connects: the URL's parts and the checked address to connect to."""

    scheme: str
    host: str
    port: int
    path: str  # with the query string
    ip: str


def _parts(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise WebhookError(_("Enter a valid address."), code="url_invalid", field="url") from exc
    if parts.scheme not in SCHEMES:
        raise WebhookError(
            _("The address must start with http:// or https://."),
            code="url_scheme_not_allowed",
            field="url",
        )
    if not parts.hostname:
        raise WebhookError(_("Enter a valid address."), code="url_invalid", field="url")
    if parts.username or parts.password:
        raise WebhookError(
            _("The address must not contain a user name or password."),
            code="url_credentials",
            field="url",
        )
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port or SCHEMES[parts.scheme], path


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def resolve(url: str) -> Target:
    """The URL's target with the first allowed address its host resolves to; WebhookError if
    the URL is not http(s), the host is unknown or any of its addresses is not allowed."""
    scheme, host, port, path = _parts(url)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise WebhookError(
            _("The address's host cannot be found."), code="url_host_unknown", field="url"
        ) from exc
    addresses = [str(info[4][0]) for info in infos]
    if not addresses:
        raise WebhookError(
            _("The address's host cannot be found."), code="url_host_unknown", field="url"
        )
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        # Every address: a name with one public and one internal address is refused too.
        for address in addresses:
            if _forbidden(ipaddress.ip_address(address.split("%", 1)[0])):
                raise WebhookError(
                    _("The address leads to a private or reserved network, which is not allowed."),
                    code="url_address_not_allowed",
                    field="url",
                )
    return Target(scheme, host, port, path, addresses[0])
