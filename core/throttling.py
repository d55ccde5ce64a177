"""Login throttling: failed attempts are counted per e-mail address and per client address.

After LOGIN_FAILURE_LIMIT failures for one e-mail address (or 4× as many from one client
address, whatever e-mail they tried) the login form refuses every attempt for that address
for LOGIN_LOCKOUT_SECONDS, without checking the password, so guessing gains nothing.

Counters live in the shared cache (Redis), so every web worker sees the same numbers. A counter
lives LOGIN_LOCKOUT_SECONDS from its first failure; the failure that reaches the limit restarts
that clock, so a lockout always lasts the full window. Keys are HMACs of the value (keyed with
SECRET_KEY), so the cache never holds an e-mail or IP address in clear.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

from core.emails import canonical_email

KEY_PREFIX = "login-failures"
IP_LIMIT_FACTOR = 4


def _key(kind: str, value: str) -> str:
    digest = salted_hmac("apilo.login-throttle", f"{kind}:{value}", algorithm="sha256")
    return f"{KEY_PREFIX}:{kind}:{digest.hexdigest()}"


def _email_key(email: str) -> str:
    # The form EmailBackend looks accounts up by: every spelling of one account shares a counter.
    return _key("email", canonical_email(email))


def _ip_key(ip: str) -> str:
    return _key("ip", ip)


def client_ip(request: HttpRequest | None) -> str:
    """The client's address: REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT proxies the address the
    outermost trusted proxy put into X-Forwarded-For.

    Each proxy appends the address it received the request from, so the header is read from the
    right: with N trusted proxies the N-th entry from the right is the client. Entries further
    left were written by the client and are never believed. A header with fewer entries than
    proxies (the request bypassed them) or with no valid address there falls back to
    REMOTE_ADDR.
    """
    if request is None:
        return ""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    forwarded = [
        entry.strip()
        for entry in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if entry.strip()
    ]
    if len(forwarded) < proxies:
        return remote
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return remote


def _limits() -> tuple[int, int]:
    limit = settings.LOGIN_FAILURE_LIMIT
    return limit, limit * IP_LIMIT_FACTOR


def is_locked(email: str, ip: str) -> bool:
    """Whether logins for this e-mail address, or from this client address, are refused now."""
    email_limit, ip_limit = _limits()
    keys = [_email_key(email)] if email else []
    if ip:
        keys.append(_ip_key(ip))
    counts = cache.get_many(keys)
    if email and counts.get(_email_key(email), 0) >= email_limit:
        return True
    return bool(ip) and counts.get(_ip_key(ip), 0) >= ip_limit


def register_failure(email: str, ip: str) -> None:
    """Count one failed attempt against the e-mail address and the client address."""
    email_limit, ip_limit = _limits()
    if email:
        _increment(_email_key(email), email_limit)
    if ip:
        _increment(_ip_key(ip), ip_limit)


def clear(email: str) -> None:
    """Forget the failures of an e-mail address (after a successful login or password reset)."""
    if email:
        cache.delete(_email_key(email))


def _increment(key: str, limit: int) -> None:
    window = settings.LOGIN_LOCKOUT_SECONDS
    # add() starts the window only if no counter exists; incr() is atomic in Redis and keeps
    # the key's expiry.
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=window)
        count = 1
    if count == limit:
        cache.touch(key, timeout=window)


def allow_password_reset_mail(email: str) -> bool:
    """Count one password-reset mail for this address; False once the hourly allowance is used.

    The reset page answers the same either way (no account enumeration); only the mail is held
    back, so nobody can flood an inbox through the form.
    """
    limit = settings.PASSWORD_RESET_MAILS_PER_HOUR
    key = _key("reset", canonical_email(email))
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.add(key, 1, timeout=3600)
        count = 1
    return count <= limit
