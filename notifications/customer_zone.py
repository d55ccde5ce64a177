"""The customer zone: a private link per order to a public summary page (`/o/<token>`).

Owns CustomerZoneLink. The token is 256 bits of HMAC-SHA256 (the deployment's SECRET_KEY) over
the link's random nonce, tenant and order, so it can be shown again on the order page and in
mails without being stored: the table keeps only its sha256, which the public page looks up and
then compares in constant time. Whoever reads the database cannot build a token; rotating
SECRET_KEY invalidates every link (the next mail or order page view shows the new one).

The page's language (pl/en) is the buyer's: Allegro's ``buyer.preferences.language`` when the
form carries it, else the marketplace (allegro-pl: Polish, any other: English), else Polish.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac
from django_scopes import scopes_disabled

from notifications.models import CustomerZoneLink
from orders.models import Order

_SALT = "apilo.notifications.customer_zone"
# Tokens are URL-safe base64 of 32 bytes: 43 characters. Anything else is not a token.
TOKEN_LENGTH = 43


def _token(link: CustomerZoneLink) -> str:
    digest = salted_hmac(
        _SALT, f"{link.nonce}:{link.tenant_id}:{link.order_id}", algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def ensure_link(order: Order) -> CustomerZoneLink:
    """The order's link, created on first use (in the caller's transaction, if any)."""
    link = CustomerZoneLink.objects.filter(tenant_id=order.tenant_id, order_id=order.pk).first()
    if link is not None:
        current = _hash(_token(link))
        if link.token_hash != current:  # SECRET_KEY was rotated: the link moves to the new token
            link.token_hash = current
            link.save(update_fields=["token_hash"])
        return link
    link = CustomerZoneLink(
        tenant_id=order.tenant_id, order_id=order.pk, nonce=secrets.token_hex(16)
    )
    link.token_hash = _hash(_token(link))
    try:
        with transaction.atomic():
            link.save()
    except IntegrityError:  # created by a concurrent writer meanwhile
        return CustomerZoneLink.objects.get(tenant_id=order.tenant_id, order_id=order.pk)
    return link


def url_for(order: Order) -> str:
    """The order's customer zone address, or "" when its channel has the zone off."""
    if not order.channel.customer_zone:
        return ""
    token = _token(ensure_link(order))
    return settings.SITE_URL + reverse("customer_zone", args=[token])


def order_for_token(token: str) -> Order | None:
    """The order a token opens, or None (wrong token, or the channel's zone is off).

    Tenant-less by nature: the address is the only credential. The order is returned for the
    caller to read inside its tenant's scope.
    """
    if len(token) != TOKEN_LENGTH:
        return None
    wanted = _hash(token)
    with scopes_disabled():
        link = CustomerZoneLink.objects.filter(token_hash=wanted).first()
        if link is None:
            return None
        # The stored hash must be the hash of the token this link derives now (a rotated
        # SECRET_KEY retires old links), compared without leaking where they differ.
        if not hmac.compare_digest(_hash(_token(link)), wanted):
            return None
        order = (
            Order.objects.select_related("channel", "status", "tenant")
            .filter(tenant_id=link.tenant_id, pk=link.order_id)
            .first()
        )
    if order is None or not order.channel.customer_zone:
        return None
    return order


def language_of(order: Order) -> str:
    """pl or en: the buyer's preferred language, else the marketplace's, else Polish."""
    preferred = (order.buyer_language or "").lower()
    if preferred:
        return "pl" if preferred.startswith("pl") else "en"
    marketplace = (order.marketplace or "").lower()
    if marketplace and marketplace != "allegro-pl":
        return "en"
    return "pl"
