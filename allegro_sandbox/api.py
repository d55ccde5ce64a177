"""Resource server handlers: /me, /order/..., /sale/... ."""

from __future__ import annotations

import random
import re
from typing import Any

from . import data
from .clock import iso, parse_iso
from .errors import ApiError, errors
from .state import (
    CARRIER_IDS,
    CARRIERS,
    FULFILLMENT_STATUSES,
    MAX_FULFILLMENT_CHANGES,
    MAX_WAYBILL_USAGE,
    OFFER_EVENT_RETENTION,
    ORDER_EVENT_TYPES,
    Order,
    Store,
    b64id,
    unb64id,
)
from .web import Request, Response, json_response

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
WAYBILL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_/.]*$")
CF_STATUSES = ["BOUGHT", "FILLED_IN", "READY_FOR_PROCESSING", "CANCELLED"]
CF_SORTS = ["lineItems.boughtAt", "-lineItems.boughtAt", "updatedAt", "-updatedAt"]
OFFER_STATUSES = ["INACTIVE", "ACTIVE", "ACTIVATING", "ENDED"]
OFFER_FORMATS = ["BUY_NOW", "ADVERTISEMENT", "AUCTION"]
OFFER_SORTS = [
    "sellingMode.price.amount",
    "-sellingMode.price.amount",
    "stock.sold",
    "-stock.sold",
    "stock.available",
    "-stock.available",
]
OFFER_EVENT_TYPES = [
    "OFFER_ACTIVATED",
    "OFFER_CHANGED",
    "OFFER_ENDED",
    "OFFER_STOCK_CHANGED",
    "OFFER_PRICE_CHANGED",
    "OFFER_ARCHIVED",
    "OFFER_BID_PLACED",
    "OFFER_BID_CANCELED",
    "OFFER_TRANSLATION_UPDATED",
    "OFFER_VISIBILITY_CHANGED",
    "OFFER_DELIVERY_COUNTRIES_BLOCKED",
]


def _int_param(req: Request, name: str, default: int, lo: int, hi: int, status: int) -> int:
    raw = req.q(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise errors(
            400 if status != 422 else 422,
            "VALIDATION_ERROR",
            f"Invalid value of parameter {name}: {raw}",
            path=name,
        ) from None
    if not lo <= value <= hi:
        raise errors(
            status, "VALIDATION_ERROR", f"Parameter {name} must be between {lo} and {hi}", path=name
        )
    return value


def _enum_list(req: Request, name: str, allowed: list[str], status: int = 400) -> list[str]:
    values = req.qlist(name)
    for v in values:
        if v not in allowed:
            raise errors(
                status, "VALIDATION_ERROR", f"Invalid value of parameter {name}: {v}", path=name
            )
    return values


def _date_param(req: Request, name: str) -> float | None:
    raw = req.q(name)
    if not raw:
        return None
    try:
        return parse_iso(raw)
    except ValueError:
        raise errors(
            400, "VALIDATION_ERROR", f"Invalid date-time in parameter {name}: {raw}", path=name
        ) from None


def drop_none(obj: Any) -> Any:
    """Leave out null fields (the spec marks few of them nullable)."""
    if isinstance(obj, dict):
        return {k: drop_none(v) for k, v in obj.items() if v is not None}
    if isinstance(obj, list):
        return [drop_none(v) for v in obj]
    return obj


def not_found(order_id: str) -> ApiError:
    return errors(
        404,
        "CheckoutFormNotFoundException",
        f"Checkout form {order_id} not found",
        path=f"/order/checkout-forms/{order_id}",
        user_message=f"Checkout form {order_id} not found",
    )


class Api:
    def __init__(self, store: Store) -> None:
        self.store = store

    # ------------------------------------------------------------------ account
    def me(self, req: Request) -> Response:
        seller = self.store.sellers[req.auth.seller_id]
        body: dict[str, Any] = {
            "id": seller.id,
            "login": seller.login,
            "firstName": seller.first_name,
            "lastName": seller.last_name,
            "email": seller.email,
            "baseMarketplace": {"id": seller.marketplace},
            "company": {"name": seller.company_name, "taxId": seller.company_tax_id},
            "features": list(seller.features),
        }
        return json_response(body)

    # ------------------------------------------------------------------ additional e-mails
    # GET/POST /account/additional-emails, GET/DELETE /account/additional-emails/{emailId}.
    def additional_emails(self, req: Request) -> Response:
        seller = self.store.sellers[req.auth.seller_id]
        return json_response({"additional-emails": list(seller.additional_emails)})

    def add_additional_email(self, req: Request) -> Response:
        seller = self.store.sellers[req.auth.seller_id]
        body = req.json()
        email = body.get("email") if isinstance(body, dict) else None
        if not isinstance(email, str) or not email.strip():
            raise errors(400, "VALIDATION_ERROR", "Email must not be empty", path="email")
        local, at, domain = email.partition("@")
        if not at or not local or len(local) > 64 or "." not in domain or " " in email:
            raise errors(422, "VALIDATION_ERROR", "Email address is not valid", path="email")
        if any(entry["email"].lower() == email.lower() for entry in seller.additional_emails):
            raise errors(422, "VALIDATION_ERROR", "Email address is already assigned", path="email")
        entry = {
            "id": data.rand_uuid(self.store.rng),
            "email": email,
            "createdAt": iso(self.store.clock.now()),
        }
        seller.additional_emails.append(entry)
        self.store.dirty = True
        return json_response(entry, 201)

    def _additional_email(self, req: Request) -> tuple[Any, dict[str, str]]:
        seller = self.store.sellers[req.auth.seller_id]
        email_id = req.params["emailId"]
        for entry in seller.additional_emails:
            if entry["id"] == email_id:
                return seller, entry
        raise errors(404, "NOT_FOUND", f"Additional email {email_id} not found", path=req.path)

    def additional_email(self, req: Request) -> Response:
        return json_response(self._additional_email(req)[1])

    def delete_additional_email(self, req: Request) -> Response:
        seller, entry = self._additional_email(req)
        seller.additional_emails.remove(entry)
        self.store.dirty = True
        return Response(204)

    # ------------------------------------------------------------------ journal
    def order_events(self, req: Request) -> Response:
        limit = _int_param(req, "limit", 100, 1, 1000, 422)
        raw_from = req.q("from") or "0"
        if not raw_from.isdigit():
            raise errors(
                422, "VALIDATION_ERROR", f"Invalid value of parameter from: {raw_from}", path="from"
            )
        types = _enum_list(req, "type", ORDER_EVENT_TYPES, 422)
        events = self.store.read_events(
            req.auth.seller_id, int(raw_from), set(types) if types else None, limit
        )
        return json_response({"events": [ev.wire() for ev in events]})

    def event_stats(self, req: Request) -> Response:
        ev = self.store.latest_event(req.auth.seller_id)
        latest = {"id": str(ev.id), "occurredAt": iso(ev.occurred)} if ev else None
        return json_response({"latestEvent": latest})

    # ------------------------------------------------------------------ checkout forms
    def checkout_forms(self, req: Request) -> Response:
        try:
            offset = int(req.q("offset") or 0)
            limit = int(req.q("limit") or 100)
        except ValueError:
            raise errors(400, "VALIDATION_ERROR", "Invalid offset or limit value") from None
        if offset < 0 or not 1 <= limit <= 100:
            raise errors(
                422,
                "VALIDATION_ERROR",
                "Limit must be between 1 and 100 and offset must not be negative",
                path="/order/checkout-forms",
            )
        if offset + limit > 10_000:
            raise errors(
                422,
                "VALIDATION_ERROR",
                "Offset and limit parameters exceed maximal result size of 10000 items",
                path="/order/checkout-forms",
            )
        statuses = set(_enum_list(req, "status", CF_STATUSES))
        ful = set(_enum_list(req, "fulfillment.status", FULFILLMENT_STATUSES))
        provider = _enum_list(req, "fulfillment.provider.id", ["SELLER", "ALLEGRO"])
        sent = _enum_list(req, "fulfillment.shipmentSummary.lineItemsSent", ["NONE", "SOME", "ALL"])
        bought_lte, bought_gte = (
            _date_param(req, "lineItems.boughtAt.lte"),
            _date_param(req, "lineItems.boughtAt.gte"),
        )
        upd_lte, upd_gte = _date_param(req, "updatedAt.lte"), _date_param(req, "updatedAt.gte")
        sort = req.q("sort") or "-lineItems.boughtAt"
        if sort not in CF_SORTS:
            raise errors(
                400, "VALIDATION_ERROR", f"Invalid value of parameter sort: {sort}", path="sort"
            )
        exact = {
            k: req.q(k)
            for k in (
                "payment.id",
                "surcharges.id",
                "delivery.method.id",
                "buyer.login",
                "marketplace.id",
            )
            if req.q(k)
        }
        cutoff = self.store.clock.now() - 365 * 86400
        out: list[Order] = []
        for o in self.store.seller_orders.get(req.auth.seller_id, []):
            if o.deleted or o.bought_ts < cutoff or o.id in self.store.unlisted_forms:
                continue
            cf = o.cf
            if statuses and cf["status"] not in statuses:
                continue
            if ful and cf["fulfillment"]["status"] not in ful:
                continue
            if provider and cf["fulfillment"]["provider"]["id"] not in provider:
                continue
            if sent and cf["fulfillment"]["shipmentSummary"]["lineItemsSent"] not in sent:
                continue
            if bought_lte is not None and o.bought_ts > bought_lte:
                continue
            if bought_gte is not None and o.bought_ts < bought_gte:
                continue
            if upd_lte is not None and o.updated_ts > upd_lte:
                continue
            if upd_gte is not None and o.updated_ts < upd_gte:
                continue
            if exact:
                if "payment.id" in exact and cf.get("payment", {}).get("id") != exact["payment.id"]:
                    continue
                if "surcharges.id" in exact and exact["surcharges.id"] not in {
                    s["id"] for s in cf["surcharges"]
                }:
                    continue
                if (
                    "delivery.method.id" in exact
                    and cf["delivery"]["method"]["id"] != exact["delivery.method.id"]
                ):
                    continue
                if "buyer.login" in exact and cf["buyer"]["login"] != exact["buyer.login"]:
                    continue
                if "marketplace.id" in exact and cf["marketplace"]["id"] != exact["marketplace.id"]:
                    continue
            out.append(o)
        key = (lambda o: o.bought_ts) if sort.endswith("boughtAt") else (lambda o: o.updated_ts)
        out.sort(key=key, reverse=sort.startswith("-"))
        page = out[offset : offset + limit]
        stale = self.store.stale_listed_forms
        raw = (
            b'{"checkoutForms":['
            + b",".join(stale[o.id].encode() if o.id in stale else o.json_bytes() for o in page)
            + b'],"count":'
            + str(len(page)).encode()
            + b',"totalCount":'
            + str(len(out)).encode()
            + b"}"
        )
        return json_response(None, raw=raw)

    def _order(self, req: Request) -> Order:
        oid = req.params["id"]
        if not UUID_RE.match(oid):
            raise errors(422, "VALIDATION_ERROR", f"Invalid checkout form id: {oid}", path="id")
        order = self.store.visible_order(req.auth.seller_id, oid)
        if order is None:
            raise not_found(oid)
        return order

    def checkout_form(self, req: Request) -> Response:
        order = self._order(req)  # a merged or removed form answers 404 before anything else
        status = self.store.unreadable_forms.get(order.id)
        if status is not None:
            raise errors(
                status,
                "INTERNAL_SERVER_ERROR",
                "Internal server error.",
                user_message="Internal server error. Please try again in a few minutes.",
            )
        return json_response(None, raw=order.json_bytes())

    def put_fulfillment(self, req: Request) -> Response:
        order = self._order(req)
        body = req.json()
        revision = req.q("checkoutForm.revision")
        if revision is not None and revision != order.cf["revision"]:
            raise errors(
                409,
                "CheckoutFormRevisionConflictException",
                "Conflict. Provided revision is outdated.",
                path=f"/order/checkout-forms/{order.id}/fulfillment",
            )
        status = body.get("status") if isinstance(body, dict) else None
        if status not in FULFILLMENT_STATUSES:
            raise errors(
                422, "VALIDATION_ERROR", f"Unrecognized fulfillment status: {status}", path="status"
            )
        if status == "RETURNED" or order.fulfillment_changes >= MAX_FULFILLMENT_CHANGES:
            msg = f"Failed to set status {status} on order {order.id}."
            raise errors(
                422,
                "SellerOrdersStoreUnprocessableEntityException",
                msg,
                path=f"/order/checkout-forms/{order.id}/fulfillment",
            )
        self.store.set_fulfillment(order, status)
        return Response(204)

    def get_shipments(self, req: Request) -> Response:
        order = self._order(req)
        return json_response({"shipments": order.shipments})

    def post_shipment(self, req: Request) -> Response:
        order = self._order(req)
        body = req.json()
        if not isinstance(body, dict):
            raise errors(400, "VALIDATION_ERROR", "Request body must be a JSON object")
        carrier = body.get("carrierId")
        waybill = body.get("waybill")
        name = body.get("carrierName")
        if not carrier or not isinstance(carrier, str):
            raise errors(400, "VALIDATION_ERROR", "carrierId must not be empty", path="carrierId")
        if carrier not in CARRIER_IDS:
            raise errors(400, "VALIDATION_ERROR", f"Unknown carrier: {carrier}", path="carrierId")
        if not waybill or not isinstance(waybill, str):
            raise errors(400, "VALIDATION_ERROR", "waybill must not be empty", path="waybill")
        if len(waybill) > 64:
            raise errors(
                400,
                "VALIDATION_ERROR",
                "waybill must be at most 64 characters long",
                path="waybill",
            )
        if not WAYBILL_RE.match(waybill):
            raise errors(
                400,
                "WaybillValidationException",
                "Tracking number is invalid",
                path="waybill",
                user_message="Przekazany numer przesyłki jest niepoprawny",
            )
        if name is not None and (not isinstance(name, str) or len(name) > 30):
            raise errors(
                400,
                "VALIDATION_ERROR",
                "carrierName must be at most 30 characters long",
                path="carrierName",
            )
        if carrier == "OTHER" and not name:
            raise errors(
                400,
                "VALIDATION_ERROR",
                "carrierName is required for carrier OTHER",
                path="carrierName",
            )
        items = body.get("lineItems") or []
        own = {li["id"] for li in order.cf["lineItems"]}
        if not isinstance(items, list) or any(
            not isinstance(li, dict) or li.get("id") not in own for li in items
        ):
            raise errors(
                422, "VALIDATION_ERROR", "Line item does not belong to the order", path="lineItems"
            )
        if not items:
            items = [{"id": li["id"]} for li in order.cf["lineItems"]]
        if (
            any(s["waybill"] == waybill and s["carrierId"] == carrier for s in order.shipments)
            or self.store.waybill_usage(carrier, waybill) >= MAX_WAYBILL_USAGE
        ):
            raise errors(
                409,
                "WaybillUsageExceededException",
                "Maximum waybill usage exceeded",
                path="waybill",
            )
        shipment = self.store.add_shipment(
            order,
            {
                "carrierId": carrier,
                "waybill": waybill,
                "carrierName": name,
                "lineItems": [{"id": li["id"]} for li in items],
            },
        )
        return json_response(shipment, 201)

    def carriers(self, req: Request) -> Response:
        out = [{"id": cid, "name": name} if name else {"id": cid} for cid, name in CARRIERS]
        return json_response({"carriers": out})

    # ------------------------------------------------------------------ offers
    @staticmethod
    def offer_listing(o: dict[str, Any]) -> dict[str, Any]:
        price = data.money(o["price"], o["currency"])
        pub: dict[str, Any] = {
            "status": o["status"],
            "startingAt": None,
            "startedAt": iso(o["created_at"]),
            "endingAt": None,
            "endedAt": None,
            "marketplaces": {"base": {"id": "allegro-pl"}, "additional": []},
        }
        return drop_none(
            {
                "id": o["id"],
                "name": o["name"],
                "category": {"id": o["category"]},
                "primaryImage": {"url": o["image"]},
                "sellingMode": {"format": o["format"], "price": price},
                "stock": {"available": o["available"], "sold": o["sold"]},
                "stats": {"watchersCount": o["watchers"], "visitsCount": o["visits"]},
                "publication": pub,
                "external": {"id": o["external_id"]} if o["external_id"] else None,
                "delivery": {"shippingRates": {"id": "5637592a-0a24-4771-b527-d89b2767d821"}},
                "b2b": {"buyableOnlyByBusiness": False},
                "isFulfillment": False,
            }
        )

    def sale_offers(self, req: Request) -> Response:
        limit = _int_param(req, "limit", 20, 1, 1000, 400)
        offset = _int_param(req, "offset", 0, 0, 9_999_999, 400)
        if offset + limit > 10_000_000:
            raise errors(
                400,
                "VALIDATION_ERROR",
                "Sum of offset and limit must not exceed 10000000",
                path="offset",
            )
        ext = req.qlist("external.id")
        if len(ext) > 100 or any(len(e) > 100 for e in ext):
            raise errors(
                400,
                "VALIDATION_ERROR",
                "external.id accepts at most 100 values of at most 100 characters",
                path="external.id",
            )
        statuses = set(_enum_list(req, "publication.status", OFFER_STATUSES))
        formats = set(_enum_list(req, "sellingMode.format", OFFER_FORMATS))
        sort = req.q("sort")
        if sort is not None and sort not in OFFER_SORTS:
            raise errors(
                400, "VALIDATION_ERROR", f"Invalid value of parameter sort: {sort}", path="sort"
            )
        bounds = {}
        for key in ("sellingMode.price.amount.gte", "sellingMode.price.amount.lte"):
            raw = req.q(key)
            if raw:
                try:
                    bounds[key] = float(raw)
                except ValueError:
                    raise errors(
                        400, "VALIDATION_ERROR", f"Invalid value of parameter {key}", path=key
                    ) from None
        ids = set(req.qlist("offer.id"))
        name = (req.q("name") or "").lower()
        category = req.q("category.id")
        ext_set = set(ext)
        offers = self.store.listed_offers(req.auth.seller_id)
        out = []
        for o in offers:
            if ids and o["id"] not in ids:
                continue
            if ext_set and o["external_id"] not in ext_set:
                continue
            if statuses and o["status"] not in statuses:
                continue
            if formats and o["format"] not in formats:
                continue
            if name and name not in o["name"].lower():
                continue
            if category and o["category"] != category:
                continue
            if (
                "sellingMode.price.amount.gte" in bounds
                and o["price"] < bounds["sellingMode.price.amount.gte"]
            ):
                continue
            if (
                "sellingMode.price.amount.lte" in bounds
                and o["price"] > bounds["sellingMode.price.amount.lte"]
            ):
                continue
            out.append(o)
        if sort:
            field = {
                "sellingMode.price.amount": "price",
                "stock.sold": "sold",
                "stock.available": "available",
            }[sort.lstrip("-")]
            out.sort(key=lambda o: (o[field], o["id"]), reverse=sort.startswith("-"))
        else:
            out.sort(key=lambda o: (o["created_at"], o["id"]), reverse=True)
        page = out[offset : offset + limit]
        return json_response(
            {
                "offers": [self.offer_listing(o) for o in page],
                "count": len(page),
                "totalCount": len(out),
            }
        )

    def product_offer(self, req: Request) -> Response:
        oid = req.params["offerId"]
        o = self.store.offers.get(oid)
        if o is None or o["seller_id"] != req.auth.seller_id:
            raise errors(404, "NOT_FOUND", f"Offer {oid} not found", path="offerId")
        body = {
            "id": o["id"],
            "name": o["name"],
            "category": {"id": o["category"]},
            "productSet": [
                {
                    "quantity": {"value": 1},
                    "product": {
                        "id": data.rand_uuid(random.Random(o["id"])),
                        "publication": {"status": "LISTED"},
                        "parameters": [
                            {
                                "id": "225693",
                                "name": "EAN (GTIN)",
                                "values": [o["ean"]],
                                "options": {"identifiesProduct": True, "isGTIN": True},
                            }
                        ]
                        if o.get("ean")
                        else [],
                    },
                }
            ],
            "parameters": [],
            "images": [o["image"]],
            "description": {
                "sections": [{"items": [{"type": "TEXT", "content": f"<p>{o['name']}</p>"}]}]
            },
            "sellingMode": {"format": o["format"], "price": data.money(o["price"], o["currency"])},
            "stock": {"available": o["available"], "unit": "UNIT"},
            "publication": {
                "status": o["status"],
                "startingAt": None,
                "endingAt": None,
                "republish": False,
                "marketplaces": {"base": {"id": "allegro-pl"}, "additional": []},
            },
            "external": {"id": o["external_id"]} if o["external_id"] else None,
            "delivery": {
                "handlingTime": "PT24H",
                "shippingRates": None,
                "additionalInfo": None,
                "shipmentDate": None,
            },
            "payments": {"invoice": "VAT"},
            "location": {
                "city": "Poznań",
                "countryCode": "PL",
                "postCode": "60-166",
                "province": "WIELKOPOLSKIE",
            },
            "b2b": {"buyableOnlyByBusiness": False},
            "language": "pl-PL",
            "createdAt": iso(o["created_at"]),
            "updatedAt": iso(o["created_at"]),
        }
        return json_response(drop_none(body))

    def offer_events(self, req: Request) -> Response:
        limit = _int_param(req, "limit", 100, 1, 1000, 400)
        raw_from = req.q("from")
        after = 0
        if raw_from:
            if len(raw_from) > 256:
                raise errors(400, "VALIDATION_ERROR", "from is too long", path="from")
            try:
                after = unb64id(raw_from)
            except Exception:
                raise errors(
                    400, "VALIDATION_ERROR", f"Invalid event id: {raw_from}", path="from"
                ) from None
        types = set(_enum_list(req, "type", OFFER_EVENT_TYPES))
        cutoff = self.store.clock.now() - OFFER_EVENT_RETENTION
        kept = self.store.offer_events.get(req.auth.seller_id, [])
        if after and not any(ev["seq"] == after and ev["occurred"] >= cutoff for ev in kept):
            # An event Allegro no longer keeps (24 h) or never gave this seller: the feed
            # cannot say what came after it. Allegro documents no answer beyond "400 Invalid
            # parameters"; the sandbox gives that.
            raise errors(
                400,
                "VALIDATION_ERROR",
                f"Event {raw_from} does not exist or is older than 24 hours",
                path="from",
            )
        out = []
        for ev in kept:
            if ev["seq"] <= after or ev["occurred"] < cutoff:
                continue
            if types and ev["type"] not in types:
                continue
            out.append(
                {
                    "id": b64id(ev["seq"]),
                    "occurredAt": iso(ev["occurred"]),
                    "type": ev["type"],
                    "offer": ev["offer"],
                }
            )
            if len(out) >= limit:
                break
        return json_response({"offerEvents": out})
