"""The only code that talks HTTP to Allegro (OAuth and REST), for any Allegro-compatible server.

* One keep-alive ``requests.Session`` per thread and process, timeouts on every call.
* ``Accept``/``Content-Type: application/vnd.allegro.public.v1+json`` and the ``User-Agent``
  Allegro requires on every API call.
* The deployment-wide rate limiter (channels/ratelimit.py) in front of every call; a 429 from the
  API pauses the client id for every worker.
* Errors classified (see :class:`AllegroError` and its subclasses); callers never see a raw
  ``requests`` exception.
* One structured log line per call, without secrets: no tokens, codes, client secrets, request
  bodies or query strings are logged.

This module knows nothing about tenants or models: services pass tokens in and get data out.
"""

from __future__ import annotations

import json as jsonlib
import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.utils import timezone

from channels.ratelimit import Limiter, RateLimited, get_limiter

logger = logging.getLogger("channels.allegro")

PUBLIC_V1 = "application/vnd.allegro.public.v1+json"
# What the back office needs: the seller's login and sender addresses (profile), orders (read,
# fulfillment, shipments), offers (read, and their quantities written: the offer quantity
# commands at the end of this module), and labels through Wysyłam z Allegro (SHIPMENT_SCOPES,
# at the end of this module).
REQUESTED_SCOPES = (
    "allegro:api:profile:read",
    "allegro:api:profile:write",
    "allegro:api:orders:read",
    "allegro:api:orders:write",
    "allegro:api:sale:offers:read",
    "allegro:api:sale:offers:write",
    "allegro:api:shipments:read",
    "allegro:api:shipments:write",
)


# --------------------------------------------------------------------------- environments
class UnknownEnvironment(Exception):
    """The named Allegro environment is not configured (or has no client id)."""


@dataclass(frozen=True)
class AllegroEnvironment:
    name: str
    auth_url: str
    api_url: str
    client_id: str
    client_secret: str = field(repr=False)

    @property
    def auth_origin(self) -> str:
        parts = urlsplit(self.auth_url)
        return f"{parts.scheme}://{parts.netloc}"


def configured_environments() -> dict[str, AllegroEnvironment]:
    """Environments from settings.ALLEGRO_ENVIRONMENTS that have a client id, by name."""
    out: dict[str, AllegroEnvironment] = {}
    for name, conf in settings.ALLEGRO_ENVIRONMENTS.items():
        if not conf.get("client_id") or not conf.get("auth_url") or not conf.get("api_url"):
            continue
        out[name] = AllegroEnvironment(
            name=name,
            auth_url=conf["auth_url"].rstrip("/"),
            api_url=conf["api_url"].rstrip("/"),
            client_id=conf["client_id"],
            client_secret=conf.get("client_secret", ""),
        )
    return out


def get_environment(name: str) -> AllegroEnvironment:
    try:
        return configured_environments()[name]
    except KeyError:
        raise UnknownEnvironment(name) from None


# --------------------------------------------------------------------------- errors
class AllegroError(Exception):
    """Base of every failure of a call to Allegro."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        errors: list[dict[str, Any]] | None = None,
        trace_id: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.errors = errors or []
        self.trace_id = trace_id

    @property
    def user_message(self) -> str:
        """Allegro's own explanation (``userMessage`` of the first error), if any."""
        for err in self.errors:
            text = err.get("userMessage") or err.get("message")
            if text:
                return str(text)
        return ""


class AllegroTransientError(AllegroError):
    """Network failure, timeout or 5xx: try again later."""


# ``code`` of the AllegroTransientError raised when Allegro did not answer in time.
TIMEOUT_CODE = "timeout"


class AllegroMalformedResponse(AllegroTransientError):
    """A 2xx answer of a shape the spec does not allow (not an object, a required list missing):
    handled like a 5xx, as the next answer may well be right."""


class AllegroRateLimited(AllegroError):
    """429, or our own limiter says no: try again after ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class AllegroAuthRevoked(AllegroError):
    """The grant is dead (``invalid_grant``; or repeated 401 after a refresh): re-authorize."""


class AllegroUnauthorized(AllegroError):
    """A single 401 from the API (expired or revoked access token). Services refresh once and
    turn a second 401 into :class:`AllegroAuthRevoked`."""


class AllegroConflict(AllegroError):
    """409: the resource changed (e.g. a stale checkout-form revision); re-read and retry."""


class AllegroPermanentError(AllegroError):
    """Any other 4xx (with Allegro's ``errors`` body): retrying will not help."""


# --------------------------------------------------------------------------- data
@dataclass(frozen=True)
class TokenPair:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    scope: str


@dataclass(frozen=True)
class AllegroResponse:
    status: int
    data: Any
    headers: Mapping[str, str]
    trace_id: str


@dataclass(frozen=True)
class AllegroAdditionalEmail:
    """A sender address registered on the seller's account (GET /account/additional-emails)."""

    id: str
    email: str
    created_at: str


@dataclass(frozen=True)
class AllegroShipment:
    """A shipment (waybill) on a checkout form, as Allegro lists it."""

    id: str
    carrier_id: str
    waybill: str


@dataclass(frozen=True)
class JournalEvent:
    """One event of the order journal. Its snapshot of the order is left out on purpose: the
    form it names is always read again."""

    id: str | None  # None: the event has no id a cursor could be made of
    type: str
    occurred_at: datetime | None
    checkout_form_id: str  # "" when the event names no checkout form


@dataclass(frozen=True)
class OrderEventStats:
    """The newest event of the journal; both None when there was none in the last 60 days."""

    latest_event_id: str | None
    latest_event_at: datetime | None


@dataclass(frozen=True)
class CheckoutFormsPage:
    """A page of ``GET /order/checkout-forms``. The forms are as Allegro sent them, however odd:
    the ingest parses each one defensively and reports a form it cannot read."""

    checkout_forms: list[Any]
    total_count: int | None  # None when Allegro did not say


@dataclass(frozen=True)
class AllegroCarrier:
    """A carrier a waybill can name (``OTHER`` included, with no name)."""

    id: str
    name: str


# Offers (GET /sale/offers, /sale/offer-events, /sale/product-offers/{id}).
OFFER_STATUSES = ("INACTIVE", "ACTIVATING", "ACTIVE", "ENDED")
OFFERS_PAGE_LIMIT = 1000  # Allegro's maximum page of the listing
# How many ``offer.id`` filters one listing request carries (Allegro names no maximum; 100 keep
# the query string short, like the ≤100 of ``external.id``).
OFFER_IDS_PER_REQUEST = 100
# Allegro's parameter "EAN (GTIN)" of a product, for answers without ``options.isGTIN``.
GTIN_PARAMETER_ID = "225693"


@dataclass(frozen=True)
class AllegroOffer:
    """One offer of the listing, as much as the catalogue keeps of it."""

    id: str
    name: str
    status: str  # publication.status: INACTIVE, ACTIVATING, ACTIVE, ENDED ("" if not said)
    price: Decimal | None  # sellingMode.price.amount
    currency: str
    stock_available: int | None
    sku: str  # external.id, "" when the offer has none
    category_id: str
    image_url: str


@dataclass(frozen=True)
class OffersPage:
    offers: list[AllegroOffer]
    received: int  # entries Allegro sent (a page shorter than the limit is the last one)
    total_count: int | None  # None when Allegro did not say


@dataclass(frozen=True)
class OfferEvent:
    """One offer event. It names the offer (and its SKU, except bid events), nothing of its
    stock or price: the catalogue reads changed offers again through the listing."""

    id: str
    type: str
    occurred_at: datetime | None
    offer_id: str


# How ``GET /order/checkout-forms`` can sort (Allegro's default: newest purchase first).
CheckoutFormsSort = Literal["lineItems.boughtAt", "-lineItems.boughtAt", "updatedAt", "-updatedAt"]


def parse_time(value: Any) -> datetime | None:
    """A time Allegro sent (ISO 8601; naive means UTC), or None for anything else."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _filter_time(moment: datetime) -> str:
    """A moment as Allegro's list filters take it: UTC, milliseconds, "Z"."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _journal_event(entry: dict[str, Any]) -> JournalEvent:
    raw_id = entry.get("id")
    order = entry.get("order")
    form = order.get("checkoutForm") if isinstance(order, dict) else None
    form_id = form.get("id") if isinstance(form, dict) else None
    form_id = str(form_id).strip() if isinstance(form_id, str | int) else ""
    return JournalEvent(
        id=str(raw_id) if isinstance(raw_id, str | int) else None,
        type=str(entry.get("type") or ""),
        occurred_at=parse_time(entry.get("occurredAt")),
        checkout_form_id=form_id,
    )


def _text(value: Any, limit: int) -> str:
    return str(value).strip()[:limit] if isinstance(value, str | int) else ""


def _offer(entry: Mapping[str, Any]) -> AllegroOffer | None:
    offer_id = _text(entry.get("id"), 32)
    if not offer_id:
        return None
    selling = entry.get("sellingMode")
    price = selling.get("price") if isinstance(selling, dict) else None
    price = price if isinstance(price, dict) else {}
    try:
        amount: Decimal | None = Decimal(str(price["amount"])) if "amount" in price else None
    except (InvalidOperation, ValueError):
        amount = None
    if amount is not None and not amount.is_finite():
        amount = None
    stock = entry.get("stock")
    available = stock.get("available") if isinstance(stock, dict) else None
    publication = entry.get("publication")
    external = entry.get("external")
    category = entry.get("category")
    image = entry.get("primaryImage")
    return AllegroOffer(
        id=offer_id,
        name=_text(entry.get("name"), 300),
        status=_text(publication.get("status"), 16) if isinstance(publication, dict) else "",
        price=amount,
        currency=_text(price.get("currency"), 3),
        stock_available=available if isinstance(available, int) else None,
        sku=_text(external.get("id"), 100) if isinstance(external, dict) else "",
        category_id=_text(category.get("id"), 32) if isinstance(category, dict) else "",
        image_url=_text(image.get("url"), 500) if isinstance(image, dict) else "",
    )


def _offer_event(entry: Mapping[str, Any]) -> OfferEvent | None:
    event_id = _text(entry.get("id"), 256)
    offer = entry.get("offer")
    offer_id = _text(offer.get("id"), 32) if isinstance(offer, dict) else ""
    if not event_id:
        return None
    return OfferEvent(
        id=event_id,
        type=_text(entry.get("type"), 64),
        occurred_at=parse_time(entry.get("occurredAt")),
        offer_id=offer_id,
    )


def _gtin(detail: Mapping[str, Any]) -> str:
    product_set = detail.get("productSet")
    for element in product_set if isinstance(product_set, list) else []:
        product = element.get("product") if isinstance(element, dict) else None
        parameters = product.get("parameters") if isinstance(product, dict) else None
        for parameter in parameters if isinstance(parameters, list) else []:
            if not isinstance(parameter, dict):
                continue
            options = parameter.get("options")
            marked = isinstance(options, dict) and options.get("isGTIN") is True
            if not marked and _text(parameter.get("id"), 32) != GTIN_PARAMETER_ID:
                continue
            values = parameter.get("values")
            for value in values if isinstance(values, list) else []:
                text = _text(value, 64)
                if text:
                    return text
    return ""


# --------------------------------------------------------------------------- sessions
_local = threading.local()


def _session() -> requests.Session:
    """A keep-alive session for this thread of this process (not shared across forks)."""
    pid = os.getpid()
    session = getattr(_local, "session", None)
    if session is None or getattr(_local, "pid", None) != pid:
        session = requests.Session()
        session.trust_env = False  # no proxy/netrc surprises; deployments set URLs explicitly
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=8)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _local.session = session
        _local.pid = pid
    return session


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - timezone.now()).total_seconds())


def _json(response: requests.Response) -> Any:
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


# --------------------------------------------------------------------------- client
class AllegroClient:
    """Calls to one Allegro environment. Cheap to create; sessions are pooled per thread."""

    def __init__(
        self,
        environment: AllegroEnvironment,
        *,
        limiter: Limiter | None = None,
        user_agent: str | None = None,
        timeout: tuple[float, float] | None = None,
        rate_limit_max_wait: float | None = None,
        block_seconds: float | None = None,
    ) -> None:
        self.environment = environment
        self.limiter = limiter if limiter is not None else get_limiter()
        self.user_agent = user_agent or settings.ALLEGRO_USER_AGENT
        self.timeout = timeout or (settings.ALLEGRO_CONNECT_TIMEOUT, settings.ALLEGRO_READ_TIMEOUT)
        self.rate_limit_max_wait = rate_limit_max_wait
        # How long a 429 without Retry-After pauses the client id for every worker.
        self.block_seconds = (
            settings.ALLEGRO_RATE_LIMIT_BLOCK_SECONDS if block_seconds is None else block_seconds
        )

    # ------------------------------------------------------------------ OAuth
    def authorization_url(
        self, *, redirect_uri: str, state: str, code_challenge: str, prompt_confirm: bool = True
    ) -> str:
        params = {
            "response_type": "code",
            "client_id": self.environment.client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge_method": "S256",
            "code_challenge": code_challenge,
            "scope": " ".join(REQUESTED_SCOPES),
        }
        if prompt_confirm:
            # Lets the seller see (and switch) the account being connected.
            params["prompt"] = "confirm"
        return f"{self.environment.auth_url}/auth/oauth/authorize?{urlencode(params)}"

    def exchange_code(self, *, code: str, redirect_uri: str, code_verifier: str) -> TokenPair:
        """Trade an authorization code (single use) for a token pair."""
        return self._token(
            "authorization_code",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            },
        )

    def refresh(self, *, refresh_token: str) -> TokenPair:
        """A new pair for a refresh token (which Allegro then retires after 60 s)."""
        return self._token(
            "refresh_token", {"grant_type": "refresh_token", "refresh_token": refresh_token}
        )

    def _token(self, grant: str, form: dict[str, str]) -> TokenPair:
        env = self.environment
        response = self._send(
            "POST",
            f"{env.auth_url}/auth/oauth/token",
            log_path="/auth/oauth/token",
            kind=f"token:{grant}",
            data=form,
            auth=(env.client_id, env.client_secret),
            headers={"Accept": "application/json"},
        )
        body = _json(response)
        trace_id = response.headers.get("trace-id", "")
        status = response.status_code
        if status == 200 and isinstance(body, dict) and body.get("access_token"):
            try:
                return TokenPair(
                    access_token=str(body["access_token"]),
                    refresh_token=str(body.get("refresh_token") or ""),
                    expires_in=int(body.get("expires_in") or 0),
                    scope=str(body.get("scope") or ""),
                )
            except (TypeError, ValueError):
                pass
            raise AllegroTransientError(
                "Malformed token response", status=status, trace_id=trace_id
            )
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        if status == 400 and error == "invalid_grant":
            # Never keep error_description: Allegro echoes the token or code in it.
            raise AllegroAuthRevoked(
                "Allegro rejected the grant (invalid_grant)",
                status=status,
                code=error,
                trace_id=trace_id,
            )
        if status == 429:
            # The per-user limit on minted tokens: not a client-id block, so no global pause.
            raise AllegroRateLimited(
                "Too many tokens requested",
                retry_after=_retry_after(response.headers.get("Retry-After")) or 60.0,
                status=status,
                trace_id=trace_id,
            )
        if status >= 500:
            raise AllegroTransientError(
                f"Token endpoint answered {status}", status=status, trace_id=trace_id
            )
        # invalid_request "Unauthorized" (bad client credentials), unsupported grant, …:
        # a configuration problem of the deployment, not a revoked account.
        raise AllegroPermanentError(
            f"Token endpoint answered {status} {error}".strip(),
            status=status,
            code=error,
            trace_id=trace_id,
        )

    # ------------------------------------------------------------------ REST
    def request(
        self,
        method: str,
        path: str,
        *,
        access_token: str,
        params: Mapping[str, Any] | Sequence[tuple[str, Any]] | None = None,
        json: Any = None,
        log_context: Mapping[str, Any] | None = None,
    ) -> AllegroResponse:
        """Call the REST API; returns the decoded response or raises an AllegroError."""
        if not path.startswith("/"):
            raise ValueError("path must start with /")
        headers = {"Accept": PUBLIC_V1, "Authorization": f"Bearer {access_token}"}
        body = None
        if json is not None:
            headers["Content-Type"] = PUBLIC_V1
            body = jsonlib.dumps(json, ensure_ascii=False).encode("utf-8")
        response = self._send(
            method,
            f"{self.environment.api_url}{path}",
            log_path=path,
            kind="api",
            params=params,
            data=body,
            headers=headers,
            log_context=log_context,
        )
        return self._classify(response)

    def get_me(self, *, access_token: str) -> dict[str, Any]:
        data = self.request("GET", "/me", access_token=access_token).data
        if not isinstance(data, dict) or not data.get("id") or not data.get("login"):
            raise AllegroMalformedResponse("Malformed /me response")
        return data

    # ------------------------------------------------------------------ orders
    def get_checkout_form(
        self, form_id: str, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The checkout form as Allegro has it now."""
        data = self.request(
            "GET",
            f"/order/checkout-forms/{form_id}",
            access_token=access_token,
            log_context=log_context,
        ).data
        if not isinstance(data, dict):
            raise AllegroMalformedResponse("Malformed checkout form")
        return data

    def set_fulfillment_status(
        self,
        form_id: str,
        status: str,
        revision: str = "",
        *,
        access_token: str,
        log_context: Mapping[str, Any] | None = None,
    ) -> None:
        """Set the order's fulfillment status. With the form's ``revision``, Allegro answers
        409 (AllegroConflict) when the buyer changed the order since."""
        self.request(
            "PUT",
            f"/order/checkout-forms/{form_id}/fulfillment",
            access_token=access_token,
            params={"checkoutForm.revision": revision} if revision else None,
            json={"status": status},
            log_context=log_context,
        )

    def list_shipments(
        self, form_id: str, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> list[AllegroShipment]:
        """The shipments (waybills) already on the order."""
        data = self.request(
            "GET",
            f"/order/checkout-forms/{form_id}/shipments",
            access_token=access_token,
            log_context=log_context,
        ).data
        entries = data.get("shipments") if isinstance(data, dict) else None
        return [
            AllegroShipment(
                id=str(entry.get("id") or ""),
                carrier_id=str(entry.get("carrierId") or ""),
                waybill=str(entry.get("waybill") or ""),
            )
            for entry in entries or []
            if isinstance(entry, dict)
        ]

    def add_shipment(
        self,
        form_id: str,
        *,
        carrier_id: str,
        waybill: str,
        carrier_name: str = "",
        line_ids: Sequence[str] = (),
        access_token: str,
        log_context: Mapping[str, Any] | None = None,
    ) -> str:
        """Add a waybill to the order (``carrier_name`` only for carrier OTHER; no
        ``line_ids``: every line). Returns Allegro's id of the shipment ("" if it gave none).
        409 (AllegroConflict): already on the order, or the waybill is used too often."""
        body: dict[str, Any] = {"carrierId": carrier_id, "waybill": waybill}
        if carrier_id == "OTHER":
            body["carrierName"] = carrier_name[:30]  # Allegro's limit
        if line_ids:
            body["lineItems"] = [{"id": line_id} for line_id in line_ids]
        data = self.request(
            "POST",
            f"/order/checkout-forms/{form_id}/shipments",
            access_token=access_token,
            json=body,
            log_context=log_context,
        ).data
        return str(data.get("id") or "") if isinstance(data, dict) else ""

    def list_order_events(
        self,
        *,
        after: str = "",
        limit: int = 100,
        access_token: str,
        log_context: Mapping[str, Any] | None = None,
    ) -> list[JournalEvent]:
        """Up to ``limit`` (1–1000) journal events after the event ``after``, oldest first;
        without ``after`` the oldest the journal keeps (60 days). Entries that are not objects
        are left out."""
        params: dict[str, Any] = {"limit": limit}
        if after:
            params["from"] = after
        data = self.request(
            "GET",
            "/order/events",
            access_token=access_token,
            params=params,
            log_context=log_context,
        ).data
        entries = data.get("events") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise AllegroMalformedResponse("Malformed /order/events response")
        return [_journal_event(entry) for entry in entries if isinstance(entry, dict)]

    def get_order_event_stats(
        self, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> OrderEventStats:
        """The journal's newest event: where a new account's cursor starts."""
        data = self.request(
            "GET", "/order/event-stats", access_token=access_token, log_context=log_context
        ).data
        if not isinstance(data, dict):
            raise AllegroMalformedResponse("Malformed /order/event-stats response")
        latest = data.get("latestEvent")
        if latest is None:
            return OrderEventStats(None, None)
        if not isinstance(latest, dict) or not latest.get("id"):
            raise AllegroMalformedResponse("Malformed /order/event-stats response")
        return OrderEventStats(str(latest["id"]), parse_time(latest.get("occurredAt")))

    def list_checkout_forms(
        self,
        *,
        bought_from: datetime | None = None,
        bought_to: datetime | None = None,
        updated_from: datetime | None = None,
        updated_to: datetime | None = None,
        buyer_login: str = "",
        sort: CheckoutFormsSort | None = None,
        limit: int = 100,
        offset: int = 0,
        access_token: str,
        log_context: Mapping[str, Any] | None = None,
    ) -> CheckoutFormsPage:
        """A page of the seller's checkout forms: bought within [``bought_from``,
        ``bought_to``] and changed within [``updated_from``, ``updated_to``] (all inclusive, to
        the millisecond), of the buyer ``buyer_login``. ``limit`` 1–100; ``offset + limit`` may
        not exceed 10 000 (422). Allegro does not move ``updatedAt`` on fulfillment changes."""
        params: dict[str, Any] = {}
        if bought_from is not None:
            params["lineItems.boughtAt.gte"] = _filter_time(bought_from)
        if bought_to is not None:
            params["lineItems.boughtAt.lte"] = _filter_time(bought_to)
        if updated_from is not None:
            params["updatedAt.gte"] = _filter_time(updated_from)
        if updated_to is not None:
            params["updatedAt.lte"] = _filter_time(updated_to)
        if sort is not None:
            params["sort"] = sort
        params.update(limit=limit, offset=offset)
        if buyer_login:
            params["buyer.login"] = buyer_login
        data = self.request(
            "GET",
            "/order/checkout-forms",
            access_token=access_token,
            params=params,
            log_context=log_context,
        ).data
        forms = data.get("checkoutForms") if isinstance(data, dict) else None
        if not isinstance(forms, list):
            raise AllegroMalformedResponse("Malformed /order/checkout-forms response")
        total = data.get("totalCount")
        return CheckoutFormsPage(forms, total if isinstance(total, int) else None)

    def list_carriers(
        self, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> list[AllegroCarrier]:
        """The carriers a waybill can name, in Allegro's order. Entries without an id are left
        out."""
        data = self.request(
            "GET", "/order/carriers", access_token=access_token, log_context=log_context
        ).data
        entries = data.get("carriers") if isinstance(data, dict) else False
        if entries is None:  # the spec does not require the list
            entries = []
        if not isinstance(entries, list):
            raise AllegroMalformedResponse("Malformed /order/carriers response")
        return [
            AllegroCarrier(id=str(entry["id"]), name=str(entry.get("name") or ""))
            for entry in entries
            if isinstance(entry, dict) and entry.get("id")
        ]

    # ------------------------------------------------------------------ offers
    # The seller's catalogue (REFERENCE §4): the listing (all publication statuses, 1000 a
    # page), the offer events of the last 24 h, and an offer's product set (its GTIN).
    def list_offers(
        self,
        *,
        offer_ids: Sequence[str] = (),
        statuses: Sequence[str] = OFFER_STATUSES,
        limit: int = OFFERS_PAGE_LIMIT,
        offset: int = 0,
        access_token: str,
        log_context: Mapping[str, Any] | None = None,
    ) -> OffersPage:
        """A page of the seller's offers, newest first: of these ``statuses`` (all four by
        default; Allegro's own default leaves none out either, but says so nowhere for drafts),
        only the ``offer_ids`` when given. ``limit`` 1–1000. Entries without an id are left
        out; every other field is read defensively (an offer without ``external`` has no SKU)."""
        params: list[tuple[str, Any]] = [("offer.id", offer_id) for offer_id in offer_ids]
        params += [("publication.status", status) for status in statuses]
        params += [("limit", limit), ("offset", offset)]
        data = self.request(
            "GET", "/sale/offers", access_token=access_token, params=params, log_context=log_context
        ).data
        entries = data.get("offers") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise AllegroMalformedResponse("Malformed /sale/offers response")
        offers = [_offer(entry) for entry in entries if isinstance(entry, dict)]
        total = data.get("totalCount")
        return OffersPage(
            offers=[offer for offer in offers if offer is not None],
            received=len(entries),
            total_count=total if isinstance(total, int) else None,
        )

    def list_offer_events(
        self,
        *,
        after: str = "",
        limit: int = 1000,
        types: Sequence[str] = (),
        access_token: str,
        log_context: Mapping[str, Any] | None = None,
    ) -> list[OfferEvent]:
        """Up to ``limit`` (1–1000) offer events after the event ``after``, oldest first; without
        it the oldest Allegro keeps (24 h). An ``after`` Allegro no longer keeps is refused with
        a 4xx (AllegroPermanentError). Entries without an id or offer id are left out."""
        params: list[tuple[str, Any]] = [("limit", limit)]
        if after:
            params.append(("from", after))
        params += [("type", kind) for kind in types]
        data = self.request(
            "GET",
            "/sale/offer-events",
            access_token=access_token,
            params=params,
            log_context=log_context,
        ).data
        entries = data.get("offerEvents") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise AllegroMalformedResponse("Malformed /sale/offer-events response")
        events = [_offer_event(entry) for entry in entries if isinstance(entry, dict)]
        return [event for event in events if event is not None]

    def get_offer_gtin(
        self, offer_id: str, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> str:
        """The GTIN (EAN) of the offer's product, "" when its product set names none. The
        listing does not carry it: only the offer's detail does, in ``productSet[].product
        .parameters`` (the parameter marked ``options.isGTIN``, or Allegro's "EAN (GTIN)")."""
        data = self.request(
            "GET",
            f"/sale/product-offers/{offer_id}",
            access_token=access_token,
            log_context=log_context,
        ).data
        if not isinstance(data, dict):
            raise AllegroMalformedResponse("Malformed product offer")
        return _gtin(data)

    def offer_url(self, offer_id: str) -> str:
        """The offer's page on the environment's site (e.g. allegro.pl/oferta/<id>)."""
        return f"{self.environment.auth_url}/oferta/{offer_id}"

    # ------------------------------------------------------------------ sender addresses
    # /account/additional-emails: Allegro's relay (…@allegromail.pl) passes on mail to the
    # seller's buyers only from these addresses (REFERENCE §11). Scopes profile:read / :write.
    def list_additional_emails(
        self, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> list[AllegroAdditionalEmail]:
        data = self.request(
            "GET", "/account/additional-emails", access_token=access_token, log_context=log_context
        ).data
        entries = data.get("additional-emails") if isinstance(data, dict) else None
        if not isinstance(entries, list):
            raise AllegroMalformedResponse("Malformed additional e-mails response")
        return [_additional_email(entry) for entry in entries if isinstance(entry, dict)]

    def add_additional_email(
        self, email: str, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> AllegroAdditionalEmail:
        """Register a sender address. 422 (AllegroPermanentError): not a valid address."""
        data = self.request(
            "POST",
            "/account/additional-emails",
            access_token=access_token,
            json={"email": email},
            log_context=log_context,
        ).data
        if not isinstance(data, dict) or not data.get("id"):
            raise AllegroMalformedResponse("Malformed additional e-mail response")
        return _additional_email(data)

    def delete_additional_email(
        self, email_id: str, *, access_token: str, log_context: Mapping[str, Any] | None = None
    ) -> None:
        self.request(
            "DELETE",
            f"/account/additional-emails/{email_id}",
            access_token=access_token,
            log_context=log_context,
        )

    def _classify(self, response: requests.Response) -> AllegroResponse:
        status = response.status_code
        trace_id = response.headers.get("trace-id", "")
        body = _json(response)
        if 200 <= status < 300:
            return AllegroResponse(status, body, response.headers, trace_id)
        errors = body.get("errors") if isinstance(body, dict) else None
        errors = errors if isinstance(errors, list) else []
        code = ""
        if errors and isinstance(errors[0], dict):
            code = str(errors[0].get("code") or "")
        elif isinstance(body, dict):
            code = str(body.get("error") or "")
        # Error descriptions of 401s echo the token: keep only the code.
        kwargs: dict[str, Any] = {"status": status, "code": code, "trace_id": trace_id}
        if status == 401:
            raise AllegroUnauthorized(f"401 {code}", **kwargs)
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            seconds = self.limiter.block(
                self.environment.client_id,
                retry_after if retry_after is not None else self.block_seconds,
            )
            raise AllegroRateLimited(
                "Allegro rate limit hit; client id paused",
                retry_after=seconds,
                errors=errors,
                **kwargs,
            )
        if status >= 500:
            raise AllegroTransientError(f"Allegro answered {status}", errors=errors, **kwargs)
        if status == 409:
            raise AllegroConflict(f"409 {code}", errors=errors, **kwargs)
        raise AllegroPermanentError(f"{status} {code}".strip(), errors=errors, **kwargs)

    # ------------------------------------------------------------------ transport
    def _send(
        self,
        method: str,
        url: str,
        *,
        log_path: str,
        kind: str,
        log_context: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        env = self.environment
        fields: dict[str, Any] = {
            "env": env.name,
            "client_id": env.client_id,
            "kind": kind,
            "method": method,
            "path": log_path,
        }
        if log_context:
            fields.update(log_context)
        try:
            self.limiter.acquire(env.client_id, max_wait=self.rate_limit_max_wait)
        except RateLimited as exc:
            fields.update(outcome="rate_limited_local", retry_after=round(exc.retry_after, 3))
            _log(logging.WARNING, fields)
            raise AllegroRateLimited(str(exc), retry_after=exc.retry_after) from None
        headers = {"User-Agent": self.user_agent, **kwargs.pop("headers", {})}
        started = time.monotonic()
        try:
            response = _session().request(
                method, url, headers=headers, timeout=self.timeout, allow_redirects=False, **kwargs
            )
        except requests.Timeout:
            fields.update(outcome="timeout", duration_ms=_ms(started))
            _log(logging.WARNING, fields)
            raise AllegroTransientError(
                f"Timeout calling Allegro {log_path}", code=TIMEOUT_CODE
            ) from None
        except requests.RequestException as exc:
            fields.update(
                outcome="network_error", error=type(exc).__name__, duration_ms=_ms(started)
            )
            _log(logging.WARNING, fields)
            raise AllegroTransientError(
                f"Network error calling Allegro {log_path}: {type(exc).__name__}"
            ) from None
        status = response.status_code
        fields.update(
            status=status,
            outcome="ok" if status < 400 else "error",
            duration_ms=_ms(started),
            trace_id=response.headers.get("trace-id", ""),
        )
        _log(logging.INFO if status < 400 else logging.WARNING, fields)
        return response


def _additional_email(entry: Mapping[str, Any]) -> AllegroAdditionalEmail:
    return AllegroAdditionalEmail(
        id=str(entry.get("id") or ""),
        email=str(entry.get("email") or ""),
        created_at=str(entry.get("createdAt") or ""),
    )


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _log(level: int, fields: dict[str, Any]) -> None:
    """``allegro_call key=value …`` plus the same fields as ``extra["allegro"]``."""
    text = " ".join(f"{key}={value}" for key, value in fields.items())
    logger.log(level, "allegro_call %s", text, extra={"allegro": dict(fields)})


# --------------------------------------------------------------------------- Wysyłam z Allegro
# Typed endpoints of "Shipment management" (REFERENCE §10). Functions of the client, so
# ``channels.services.api.on_behalf(channel, get_delivery_proposal, order_id)`` calls them with
# the channel's token like the methods above.

SHIPMENT_SCOPES = ("allegro:api:shipments:read", "allegro:api:shipments:write")
# Allegro's suggested pause between command status reads when it gives none.
DEFAULT_COMMAND_RETRY_AFTER = 1.0


def missing_shipment_scopes(granted: str) -> list[str]:
    """The label scopes a stored grant (space-separated scopes) lacks: an account authorized
    before labels existed must be authorized again to make them."""
    have = set(granted.split())
    return [s for s in SHIPMENT_SCOPES if s not in have]


@dataclass(frozen=True)
class DeliveryOption:
    """One way the order can travel, with its limits (None: Allegro set none)."""

    delivery_type: str  # DOOR | APM | PUDO
    payment_type: str  # PREPAID | POSTPAID
    max_dimensions_cm: tuple[float, float, float] | None  # length, width, height
    max_weight_kg: float | None
    cod_limit: str | None  # amount as Allegro writes it, e.g. "5000.00"
    insurance_limit: str | None
    currency: str


@dataclass(frozen=True)
class DeliveryProposal:
    suggested_input: dict[str, Any]
    options: list[DeliveryOption]


@dataclass(frozen=True)
class CommandStatus:
    """A WzA command as Allegro has it: IN_PROGRESS, SUCCESS (``result_id``: the shipment or
    pickup) or ERROR (``errors``: Allegro's items, with ``userMessage`` and ``path``)."""

    command_id: str
    status: str
    result_id: str = ""
    errors: list[dict[str, Any]] = field(default_factory=list)
    retry_after: float = DEFAULT_COMMAND_RETRY_AFTER
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WzaParcel:
    waybill: str  # "" until the carrier assigned one
    carrier_waybill: str


@dataclass(frozen=True)
class WzaShipment:
    id: str
    carrier: str
    parcels: list[WzaParcel]
    label_format: str
    cancelled: bool
    pickup_available: bool

    @property
    def waybills(self) -> list[str]:
        return [p.waybill for p in self.parcels if p.waybill]

    @property
    def waybills_ready(self) -> bool:
        return bool(self.parcels) and all(p.waybill for p in self.parcels)


def _value(obj: Any) -> float | None:
    if not isinstance(obj, dict):
        return None
    try:
        return float(obj["value"])
    except (KeyError, TypeError, ValueError):
        return None


def _amount(obj: Any) -> str | None:
    if isinstance(obj, dict) and obj.get("amount") is not None:
        return str(obj["amount"])
    return None


def _option(entry: dict[str, Any]) -> DeliveryOption:
    raw_limits = entry.get("limits")
    limits: dict[str, Any] = raw_limits if isinstance(raw_limits, dict) else {}
    raw_dims = limits.get("dimensions")
    dims: dict[str, Any] = raw_dims if isinstance(raw_dims, dict) else {}
    length, width, height = (_value(dims.get(k)) for k in ("length", "width", "height"))
    currency = ""
    for key in ("cashOnDelivery", "insurance"):
        money = limits.get(key)
        if isinstance(money, dict):
            currency = str(money.get("currency") or currency)
    return DeliveryOption(
        delivery_type=str(entry.get("deliveryType") or ""),
        payment_type=str(entry.get("paymentType") or ""),
        max_dimensions_cm=(
            (length, width, height)
            if length is not None and width is not None and height is not None
            else None
        ),
        max_weight_kg=_value(limits.get("weight")),
        cod_limit=_amount(limits.get("cashOnDelivery")),
        insurance_limit=_amount(limits.get("insurance")),
        currency=currency or "PLN",
    )


def get_delivery_proposal(
    client: AllegroClient,
    order_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> DeliveryProposal:
    """What Allegro suggests for the order's shipment and the delivery options' limits.
    400 ``UNSUPPORTED_DELIVERY_METHOD`` (AllegroPermanentError): WzA cannot serve it."""
    data = client.request(
        "GET",
        f"/shipment-management/delivery-proposals/{order_id}",
        access_token=access_token,
        log_context=log_context,
    ).data
    if not isinstance(data, dict):
        raise AllegroTransientError("Malformed delivery proposal")
    suggested = data.get("suggestedInput")
    options = data.get("deliveryOptions")
    return DeliveryProposal(
        suggested_input=suggested if isinstance(suggested, dict) else {},
        options=[_option(o) for o in options or [] if isinstance(o, dict)],
    )


def _post_command(
    client: AllegroClient,
    path: str,
    command_id: str,
    payload: dict[str, Any],
    access_token: str,
    log_context: Mapping[str, Any] | None,
) -> float:
    response = client.request(
        "POST",
        path,
        access_token=access_token,
        json={"commandId": command_id, "input": payload},
        log_context=log_context,
    )
    return _retry_after(response.headers.get("Retry-After")) or DEFAULT_COMMAND_RETRY_AFTER


def _command_status(
    client: AllegroClient,
    path: str,
    result_key: str,
    access_token: str,
    log_context: Mapping[str, Any] | None,
) -> CommandStatus | None:
    try:
        response = client.request("GET", path, access_token=access_token, log_context=log_context)
    except AllegroPermanentError as exc:
        if exc.status == 404:
            return None  # Allegro never received the command
        raise
    data = response.data
    if not isinstance(data, dict) or data.get("status") not in ("IN_PROGRESS", "SUCCESS", "ERROR"):
        raise AllegroTransientError("Malformed command status")
    errors = data.get("errors")
    return CommandStatus(
        command_id=str(data.get("commandId") or ""),
        status=str(data["status"]),
        result_id=str(data.get(result_key) or ""),
        errors=[e for e in errors or [] if isinstance(e, dict)],
        retry_after=_retry_after(response.headers.get("Retry-After"))
        or DEFAULT_COMMAND_RETRY_AFTER,
        extra={k: v for k, v in data.items() if k == "carrierPickupId"},
    )


def create_shipment_command(
    client: AllegroClient,
    command_id: str,
    shipment_input: dict[str, Any],
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> float:
    """Ask Allegro to create a shipment under ``command_id``; returns the seconds to wait
    before reading its status. A command id Allegro has seen is refused (400)."""
    return _post_command(
        client,
        "/shipment-management/shipments/create-commands",
        command_id,
        shipment_input,
        access_token,
        log_context,
    )


def get_shipment_command(
    client: AllegroClient,
    command_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> CommandStatus | None:
    """The create command's status; None when Allegro does not know the command id."""
    return _command_status(
        client,
        f"/shipment-management/shipments/create-commands/{command_id}",
        "shipmentId",
        access_token,
        log_context,
    )


def create_cancel_command(
    client: AllegroClient,
    command_id: str,
    shipment_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> float:
    return _post_command(
        client,
        "/shipment-management/shipments/cancel-commands",
        command_id,
        {"shipmentId": shipment_id},
        access_token,
        log_context,
    )


def get_cancel_command(
    client: AllegroClient,
    command_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> CommandStatus | None:
    return _command_status(
        client,
        f"/shipment-management/shipments/cancel-commands/{command_id}",
        "shipmentId",
        access_token,
        log_context,
    )


def get_wza_shipment(
    client: AllegroClient,
    shipment_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> WzaShipment:
    """The shipment with its parcels' waybills (empty until the carrier assigned them)."""
    data = client.request(
        "GET",
        f"/shipment-management/shipments/{shipment_id}",
        access_token=access_token,
        log_context=log_context,
    ).data
    if not isinstance(data, dict) or not data.get("id"):
        raise AllegroTransientError("Malformed shipment")
    parcels = []
    for pkg in data.get("packages") or []:
        if not isinstance(pkg, dict):
            continue
        infos = [i for i in pkg.get("transportingInfo") or [] if isinstance(i, dict)]
        parcels.append(
            WzaParcel(
                waybill=str(pkg.get("waybill") or ""),
                carrier_waybill=str(infos[0].get("carrierWaybill") or "") if infos else "",
            )
        )
    return WzaShipment(
        id=str(data["id"]),
        carrier=str(data.get("carrier") or ""),
        parcels=parcels,
        label_format=str(data.get("labelFormat") or "PDF"),
        cancelled=bool(data.get("canceledDate")),
        pickup_available=bool(data.get("pickupAvailable")),
    )


def _file(
    client: AllegroClient,
    path: str,
    body: dict[str, Any],
    access_token: str,
    log_context: Mapping[str, Any] | None,
) -> bytes | None:
    response = client._send(
        "POST",
        f"{client.environment.api_url}{path}",
        log_path=path,
        kind="api",
        data=jsonlib.dumps(body).encode(),
        headers={
            # the file answers as octet-stream, errors in Allegro's JSON
            "Accept": f"application/octet-stream, {PUBLIC_V1}",
            "Content-Type": PUBLIC_V1,
            "Authorization": f"Bearer {access_token}",
        },
        log_context=log_context,
    )
    if response.status_code == 200:
        return response.content
    client._classify(response)  # raises for errors
    return None  # 204: no file for these shipments


def get_label(
    client: AllegroClient,
    shipment_ids: Sequence[str],
    *,
    page_size: str = "A6",
    cut_line: bool = False,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> bytes | None:
    """One label file (PDF, or ZPL text) for the shipments; None when Allegro has none."""
    body: dict[str, Any] = {"shipmentIds": list(shipment_ids), "pageSize": page_size}
    if page_size == "A4":
        body["cutLine"] = cut_line
    return _file(client, "/shipment-management/label", body, access_token, log_context)


def get_protocol(
    client: AllegroClient,
    shipment_ids: Sequence[str],
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> bytes | None:
    """The handover protocol for the shipments; None when their carrier has none."""
    body = {"shipmentIds": list(shipment_ids)}
    return _file(client, "/shipment-management/protocol", body, access_token, log_context)


def get_pickup_proposals(
    client: AllegroClient,
    shipment_ids: Sequence[str],
    address: dict[str, Any],
    *,
    ready_date: str = "",
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> list[dict[str, str]]:
    """Pickup slots offered for all the shipments: [{"date", "minTime", "maxTime"}]."""
    body: dict[str, Any] = {"shipmentIds": list(shipment_ids), "address": address}
    if ready_date:
        body["readyDate"] = ready_date
    data = client.request(
        "POST",
        "/shipment-management/pickup-proposals",
        access_token=access_token,
        json=body,
        log_context=log_context,
    ).data
    slots: list[dict[str, str]] = []
    for group in data if isinstance(data, list) else []:
        for proposal in (group or {}).get("proposals") or []:
            for slot in (proposal or {}).get("pickupTimes") or []:
                entry = {k: str(slot.get(k) or "") for k in ("date", "minTime", "maxTime")}
                if entry["date"] and entry not in slots:
                    slots.append(entry)
    return slots


def create_pickup_command(
    client: AllegroClient,
    command_id: str,
    shipment_ids: Sequence[str],
    pickup_time: dict[str, str],
    address: dict[str, Any],
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> float:
    payload = {
        "shipmentIds": list(shipment_ids),
        # deprecated, yet the spec still requires it: the slot's own words
        "pickupDateProposalId": f"{pickup_time.get('date')} {pickup_time.get('minTime')}",
        "pickupTime": pickup_time,
        "address": address,
    }
    return _post_command(
        client,
        "/shipment-management/pickups/create-commands",
        command_id,
        payload,
        access_token,
        log_context,
    )


def get_pickup_command(
    client: AllegroClient,
    command_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> CommandStatus | None:
    return _command_status(
        client,
        f"/shipment-management/pickups/create-commands/{command_id}",
        "pickupId",
        access_token,
        log_context,
    )


# ----------------------------------------------------------------------- offer quantity commands
# Batch offer quantity modification (PUT /sale/offer-quantity-change-commands/{commandId}):
# asynchronous, one command id per change; the summary says when it completed, its tasks how
# each offer fared. Functions of the client, called through ``channels.services.api.on_behalf``.

OFFERS_WRITE_SCOPE = "allegro:api:sale:offers:write"


def missing_stock_scopes(granted: str) -> list[str]:
    """The scope a stored grant (space-separated scopes) lacks to send offer quantities: an
    account authorized before stock was sent must be authorized again."""
    return [] if OFFERS_WRITE_SCOPE in granted.split() else [OFFERS_WRITE_SCOPE]


@dataclass(frozen=True)
class QuantityCommandReport:
    """A quantity command's summary: ``completed`` once Allegro processed every offer."""

    command_id: str
    completed: bool
    total: int
    success: int
    failed: int


@dataclass(frozen=True)
class QuantityTask:
    """How one offer of a quantity command fared: NEW, SUCCESS or FAIL (``message``: why)."""

    offer_id: str
    status: str
    message: str


def _count(counts: Mapping[str, Any], key: str) -> int:
    value = counts.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _quantity_report(data: Any) -> QuantityCommandReport:
    if not isinstance(data, dict) or not isinstance(data.get("id"), str):
        raise AllegroMalformedResponse("Malformed quantity command report")
    raw = data.get("taskCount")
    counts: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    return QuantityCommandReport(
        command_id=data["id"],
        completed=bool(data.get("completedAt")),
        total=_count(counts, "total"),
        success=_count(counts, "success"),
        failed=_count(counts, "failed"),
    )


def set_offer_quantity(
    client: AllegroClient,
    command_id: str,
    offer_ids: Sequence[str],
    quantity: int,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> QuantityCommandReport:
    """Ask Allegro to set the offers' quantity under ``command_id``. Sent again with the same
    id and body it is the same command; 409 (AllegroConflict): the id was used for another."""
    data = client.request(
        "PUT",
        f"/sale/offer-quantity-change-commands/{command_id}",
        access_token=access_token,
        json={
            "modification": {"changeType": "FIXED", "value": quantity},
            "offerCriteria": [
                {"type": "CONTAINS_OFFERS", "offers": [{"id": oid} for oid in offer_ids]}
            ],
        },
        log_context=log_context,
    ).data
    return _quantity_report(data)


def get_quantity_command(
    client: AllegroClient,
    command_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> QuantityCommandReport | None:
    """The command's summary; None when Allegro does not know the command id."""
    try:
        response = client.request(
            "GET",
            f"/sale/offer-quantity-change-commands/{command_id}",
            access_token=access_token,
            log_context=log_context,
        )
    except AllegroPermanentError as exc:
        if exc.status == 404:
            return None
        raise
    return _quantity_report(response.data)


def list_quantity_tasks(
    client: AllegroClient,
    command_id: str,
    *,
    access_token: str,
    log_context: Mapping[str, Any] | None = None,
) -> list[QuantityTask]:
    """How each offer of the command fared (the first 1000 offers)."""
    data = client.request(
        "GET",
        f"/sale/offer-quantity-change-commands/{command_id}/tasks",
        access_token=access_token,
        params={"limit": 1000},
        log_context=log_context,
    ).data
    tasks = data.get("tasks") if isinstance(data, dict) else None
    if not isinstance(tasks, list):
        raise AllegroMalformedResponse("Malformed quantity command tasks")
    out: list[QuantityTask] = []
    for task in tasks:
        if not isinstance(task, dict):
            continue
        offer = task.get("offer")
        subject = task.get("subject")
        offer_id = ""
        if isinstance(offer, dict):
            offer_id = str(offer.get("id") or "")
        elif isinstance(subject, dict):
            offer_id = str(subject.get("offerId") or "")
        message = str(task.get("message") or "")
        errors = task.get("errors")
        if isinstance(errors, list):
            for err in errors:
                if isinstance(err, dict) and err.get("userMessage"):
                    message = str(err["userMessage"])
                    break
        out.append(QuantityTask(offer_id, str(task.get("status") or ""), message))
    return out
