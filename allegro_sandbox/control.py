"""Control API under /__sandbox__/ (JSON, no auth) and the small HTML pages."""

from __future__ import annotations

import html
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .clock import iso
from .state import FAULT_FIELDS, Order, Seller
from .web import Request, Response, control_json, html_page, redirect

if TYPE_CHECKING:
    from .server import App

P = "/__sandbox__"
DEMO_SELLER = ("demo-seller", "demo-password")
DEMO_CLIENT = ("apilo-local", "apilo-local-secret")
DEMO_REDIRECT = "http://127.0.0.1:8000/channels/allegro/callback/"
PAGE_COOKIE = "sbx_page"


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _body(req: Request) -> dict[str, Any]:
    if not req.body:
        return {}
    try:
        data = req.json()
    except Exception:
        raise ControlError(400, "body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError(400, "body must be a JSON object")
    return data


def order_summary(o: Order) -> dict[str, Any]:
    return {
        "id": o.id,
        "status": o.cf["status"],
        "fulfillment": o.cf["fulfillment"]["status"],
        "fulfillment_changes": o.fulfillment_changes,
        "revision": o.cf["revision"],
        "bought_at": iso(o.bought_ts),
        "updated_at": o.cf["updatedAt"],
        "buyer_login": o.cf["buyer"]["login"],
        "total": o.cf["summary"]["totalToPay"],
        "waybills": [s["waybill"] for s in o.shipments],
        "deleted": o.deleted,
        "merged_into": o.merged_into,
        "line_item_ids": [li["id"] for li in o.cf["lineItems"]],
    }


def _waybills(o: Order) -> str:
    return ", ".join(f"{x['carrierId']} {x['waybill']}" for x in o.shipments)


class Control:
    def __init__(self, app: App) -> None:
        self.app = app
        self.extra_redirect_uris: list[str] = []

    @property
    def store(self) -> Any:
        return self.app.store

    def routes(self) -> list[tuple[str, str, str, Callable[[Request], Response]]]:
        s = r"(?P<login>[^/]+)"
        oid = r"(?P<id>[^/]+)"
        table: list[tuple[str, str, str, Callable[[Request], Any]]] = [
            ("GET", f"{P}/health", "c_health", self.health),
            ("POST", f"{P}/reset", "c_reset", self.reset),
            ("GET", f"{P}/sellers", "c_sellers", self.list_sellers),
            ("POST", f"{P}/sellers", "c_seller_create", self.create_seller),
            ("GET", f"{P}/sellers/{s}", "c_seller", self.get_seller),
            ("PATCH", f"{P}/sellers/{s}", "c_seller_patch", self.patch_seller),
            ("POST", f"{P}/sellers/{s}/revoke-tokens", "c_revoke", self.revoke),
            ("POST", f"{P}/sellers/{s}/orders", "c_orders_create", self.create_orders),
            ("GET", f"{P}/sellers/{s}/orders", "c_orders", self.list_orders),
            ("GET", f"{P}/sellers/{s}/journal", "c_journal", self.journal),
            ("POST", f"{P}/sellers/{s}/release-events", "c_release", self.release),
            ("POST", f"{P}/sellers/{s}/offers", "c_offers_create", self.create_offers),
            ("GET", f"{P}/sellers/{s}/offers", "c_offers", self.list_offers),
            ("POST", f"{P}/offers/(?P<offer>[^/]+)", "c_offer_change", self.change_offer),
            (
                "POST",
                f"{P}/sellers/{s}/offer-events/expire",
                "c_offer_events_expire",
                self.expire_offer_events,
            ),
            ("GET", f"{P}/clients", "c_clients", self.list_clients),
            ("POST", f"{P}/clients", "c_client_create", self.create_client),
            ("GET", f"{P}/clients/(?P<cid>[^/]+)", "c_client", self.get_client),
            ("PATCH", f"{P}/clients/(?P<cid>[^/]+)", "c_client_patch", self.patch_client),
            ("GET", f"{P}/token-calls", "c_token_calls", self.token_calls),
            ("POST", f"{P}/orders/merge", "c_merge", self.merge),
            ("GET", f"{P}/orders/{oid}", "c_order", self.get_order),
            ("POST", f"{P}/orders/{oid}/advance", "c_advance", self.advance),
            ("PUT", f"{P}/orders/{oid}/unreadable", "c_unreadable", self.set_unreadable),
            ("DELETE", f"{P}/orders/{oid}/unreadable", "c_readable", self.clear_unreadable),
            ("PUT", f"{P}/orders/{oid}/unlisted", "c_unlisted", self.set_unlisted),
            ("DELETE", f"{P}/orders/{oid}/unlisted", "c_listed", self.clear_unlisted),
            ("GET", f"{P}/orders/{oid}/fulfillment", "c_fulfillment", self.fulfillment),
            ("GET", f"{P}/orders/{oid}/shipments", "c_shipments", self.shipments),
            ("PUT", f"{P}/orders/{oid}/delivery-method", "c_method", self.set_delivery_method),
            ("GET", f"{P}/orders/{oid}/wza-shipments", "c_wza_order", self.wza_of_order),
            ("GET", f"{P}/wza", "c_wza", self.get_wza),
            ("PUT", f"{P}/wza", "c_wza_set", self.set_wza),
            ("GET", f"{P}/faults", "c_faults", self.get_faults),
            ("PUT", f"{P}/faults", "c_faults_set", self.set_faults),
            ("DELETE", f"{P}/faults", "c_faults_clear", self.clear_faults),
            ("GET", f"{P}/rate-limit", "c_rate", self.get_rate),
            ("PUT", f"{P}/rate-limit", "c_rate_set", self.set_rate),
            ("GET", f"{P}/clock", "c_clock", self.clock),
            ("POST", f"{P}/clock/advance", "c_clock_advance", self.advance_clock),
            ("POST", f"{P}/tick", "c_tick", self.tick),
            ("GET", f"{P}/stats", "c_stats", self.stats),
            ("POST", f"{P}/oauth/code", "c_code", self.issue_code),
            ("GET", f"{P}/buyers", "c_buyers", self.get_buyers),
            ("PUT", f"{P}/buyers", "c_buyers_set", self.set_buyers),
            ("GET", f"{P}/public-key", "c_pubkey", self.public_key),
        ]
        out = [(m, p, n, self._wrap(h)) for m, p, n, h in table]
        out += [
            ("GET", "/", "page_index", self.page_index),
            ("POST", "/login", "page_login", self.page_login),
            ("GET", f"{P}/seller/{s}", "page_seller", self.page_seller),
        ]
        return out

    def _wrap(self, handler: Callable[[Request], Any]) -> Callable[[Request], Response]:
        def run(req: Request) -> Response:
            try:
                result = handler(req)
            except ControlError as e:
                return control_json({"error": e.message}, e.status)
            except (ValueError, TypeError) as e:
                return control_json({"error": str(e)}, 400)
            if isinstance(result, Response):
                return result
            return control_json(result)

        return run

    # ------------------------------------------------------------------ helpers
    def _seller(self, req: Request) -> Seller:
        seller = self.store.seller_ref(req.params["login"])
        if seller is None:
            raise ControlError(404, f"no seller {req.params['login']!r}")
        return seller

    def _order(self, req: Request) -> Order:
        order = self.store.orders.get(req.params["id"])
        if order is None:
            raise ControlError(404, f"no order {req.params['id']!r}")
        return order

    def seed_demo(self) -> None:
        st = self.store
        if st.seller_by_login(DEMO_SELLER[0]) is None:
            st.create_seller(
                DEMO_SELLER[0],
                DEMO_SELLER[1],
                id="1000001",
                first_name="Demo",
                last_name="Sprzedawca",
                company_name="Demo Sklep Sp. z o.o.",
                company_tax_id="5252674798",
                offers=30,
            )
        if DEMO_CLIENT[0] not in st.clients:
            st.create_client(
                DEMO_CLIENT[0],
                DEMO_CLIENT[1],
                redirect_uris=[DEMO_REDIRECT, *self.extra_redirect_uris],
                name="apilo (local)",
            )

    # ------------------------------------------------------------------ endpoints
    def health(self, req: Request) -> dict[str, Any]:
        st = self.store
        return {
            "status": "ok",
            "sellers": len(st.sellers),
            "clients": len(st.clients),
            "orders": len(st.orders),
            "now": iso(st.clock.now()),
        }

    def reset(self, req: Request) -> dict[str, Any]:
        b = _body(req)
        st = self.store
        if "seed" in b:
            st.seed = int(b["seed"])
        st.clear()
        st.clock.reset()
        self.app.oauth.auth_requests.clear()
        if st.persist is not None:
            st.persist.wipe()
            with st.persist.db:
                st.persist.db.execute(
                    "INSERT OR REPLACE INTO kv VALUES ('rsa', ?)",
                    (self.app.oauth.keys.pem.decode(),),
                )
        if b.get("demo"):
            self.seed_demo()
        return {"status": "reset"}

    def list_sellers(self, req: Request) -> dict[str, Any]:
        return {"sellers": [s.public() for s in self.store.sellers.values()]}

    def create_seller(self, req: Request) -> Response:
        b = _body(req)
        login, password = b.pop("login", None), b.pop("password", None)
        if not login or not password:
            raise ControlError(400, "login and password are required")
        if self.store.seller_by_login(login):
            raise ControlError(409, f"seller {login!r} exists")
        seller = self.store.create_seller(login, password, **b)
        return control_json(seller.public(), 201)

    def get_seller(self, req: Request) -> dict[str, Any]:
        return self._seller(req).public()

    def patch_seller(self, req: Request) -> dict[str, Any]:
        seller = self._seller(req)
        b = _body(req)
        for key in (
            "first_name",
            "last_name",
            "email",
            "company_name",
            "company_tax_id",
            "auto_sent_after_waybill",
            "features",
        ):
            if key in b:
                setattr(seller, key, b[key])
        if "password" in b and b["password"] != seller.password:
            seller.password = b["password"]
            self.store.revoke_seller_tokens(seller)  # Allegro: password change kills tokens
        self.store.dirty = True
        return seller.public()

    def revoke(self, req: Request) -> dict[str, Any]:
        return {"revoked": self.store.revoke_seller_tokens(self._seller(req))}

    def create_orders(self, req: Request) -> Response:
        seller = self._seller(req)
        b = _body(req)
        count = int(b.pop("count", 1))
        if not 1 <= count <= 100_000:
            raise ControlError(400, "count must be 1..100000")
        return_ids = b.pop("return_ids", True)
        status = b.pop("status", "READY_FOR_PROCESSING")
        if status not in (
            "BOUGHT",
            "FILLED_IN",
            "READY_FOR_PROCESSING",
            "BUYER_CANCELLED",
            "AUTO_CANCELLED",
        ):
            raise ControlError(400, f"bad status {status}")
        if "bought_at" in b and isinstance(b["bought_at"], str):
            from .clock import parse_iso

            b["bought_at"] = parse_iso(b["bought_at"])
        orders = self.store.create_orders(seller, count, status, **b)
        out: dict[str, Any] = {"created": len(orders)}
        if return_ids:
            out["ids"] = [o.id for o in orders]
        return control_json(out, 201)

    def list_orders(self, req: Request) -> dict[str, Any]:
        seller = self._seller(req)
        include_deleted = req.q("include_deleted") in ("1", "true")
        return {
            "orders": [
                order_summary(o)
                for o in self.store.seller_orders.get(seller.id, [])
                if include_deleted or not o.deleted
            ]
        }

    def journal(self, req: Request) -> dict[str, Any]:
        seller = self._seller(req)
        st = self.store
        st.flush_pending(seller.id)
        j = st.journals.get(seller.id)
        if j is None:
            return {"events": [], "withheld": [], "pending": []}

        def brief(ev: Any) -> dict[str, Any]:
            return {
                "id": str(ev.id) if ev.id else None,
                "type": ev.type,
                "occurredAt": iso(ev.occurred),
                "checkoutFormId": ev.order_id,
            }

        return {
            "events": [brief(e) for e in j.events],
            "withheld": [brief(e) for e in j.withheld],
            "pending": [dict(brief(e), insert_at=iso(t)) for t, e in j.pending],
        }

    def release(self, req: Request) -> dict[str, Any]:
        return {"released": self.store.release_events(self._seller(req).id)}

    def create_offers(self, req: Request) -> Response:
        seller = self._seller(req)
        count = int(_body(req).get("count", 10))
        offers = self.store.create_offers(seller, count)
        return control_json({"created": len(offers), "ids": [o["id"] for o in offers]}, 201)

    def list_offers(self, req: Request) -> dict[str, Any]:
        seller = self._seller(req)
        st = self.store
        return {"offers": [st.offers[i] for i in st.seller_offers.get(seller.id, [])]}

    def change_offer(self, req: Request) -> dict[str, Any]:
        st = self.store
        offer = st.offers.get(req.params["offer"])
        if offer is None:
            raise ControlError(404, "no such offer")
        b = _body(req)
        if "price" in b:
            offer["price"] = float(b["price"])
            st.emit_offer_event(offer["seller_id"], "OFFER_PRICE_CHANGED", offer)
        if "stock" in b:
            offer["available"] = int(b["stock"])
            st.emit_offer_event(offer["seller_id"], "OFFER_STOCK_CHANGED", offer)
        if "name" in b:
            offer["name"] = str(b["name"])
            st.emit_offer_event(offer["seller_id"], "OFFER_CHANGED", offer)
        if "sku" in b or "ean" in b:
            if "sku" in b:
                offer["external_id"] = str(b["sku"]) or None
            if "ean" in b:
                offer["ean"] = str(b["ean"]) or None
            st.emit_offer_event(offer["seller_id"], "OFFER_CHANGED", offer)
        if "status" in b:
            offer["status"] = b["status"]
            kind = {"ENDED": "OFFER_ENDED", "ACTIVE": "OFFER_ACTIVATED"}.get(
                b["status"], "OFFER_CHANGED"
            )
            st.emit_offer_event(offer["seller_id"], kind, offer)
        if b.get("archived"):
            st.archive_offer(offer)
        if b.get("deleted"):
            st.delete_offer(offer)
        return offer

    def expire_offer_events(self, req: Request) -> dict[str, Any]:
        return {"dropped": self.store.expire_offer_events(self._seller(req).id)}

    def list_clients(self, req: Request) -> dict[str, Any]:
        return {"clients": [c.public() for c in self.store.clients.values()]}

    def create_client(self, req: Request) -> Response:
        b = _body(req)
        cid = b.pop("client_id", None) or secrets.token_hex(16)
        secret = b.pop("client_secret", None) or b.pop("secret", None) or secrets.token_urlsafe(32)
        if "redirect_uris" not in b:
            raise ControlError(400, "redirect_uris is required (exact URIs)")
        app = self.store.create_client(cid, secret, **b)
        return control_json(app.public(), 201)

    def get_client(self, req: Request) -> dict[str, Any]:
        app = self.store.clients.get(req.params["cid"])
        if app is None:
            raise ControlError(404, "no such client")
        return app.public()

    def patch_client(self, req: Request) -> dict[str, Any]:
        app = self.store.clients.get(req.params["cid"])
        if app is None:
            raise ControlError(404, "no such client")
        b = _body(req)
        if "secret" in b:
            b["client_secret"] = b.pop("secret")
        for key, value in b.items():
            if key not in app.__dataclass_fields__ or key == "client_id":
                raise ControlError(400, f"unknown field {key}")
            setattr(app, key, value)
        self.store.dirty = True
        return app.public()

    def token_calls(self, req: Request) -> dict[str, Any]:
        st = self.store
        cid = req.q("client_id")
        clients = [cid] if cid else list(st.token_calls)
        out = {}
        for c in clients:
            counter = st.token_calls.get(c, {})
            out[c] = {
                "calls": {k: v for k, v in counter.items() if not k.endswith(":ok")},
                "ok": {k[:-3]: v for k, v in counter.items() if k.endswith(":ok")},
            }
        if cid:
            return out.get(cid, {"calls": {}, "ok": {}})
        return out

    def merge(self, req: Request) -> dict[str, Any]:
        ids = _body(req).get("ids") or []
        orders = [self.store.orders.get(i) for i in ids]
        if any(o is None for o in orders):
            raise ControlError(404, "unknown order id")
        merged = self.store.merge(orders)
        return {"id": merged.id, "merged": ids}

    def get_order(self, req: Request) -> dict[str, Any]:
        o = self._order(req)
        return {
            "checkoutForm": o.cf,
            "summary": order_summary(o),
            "fulfillment_history": o.fulfillment_history,
            "shipments": o.shipments,
            "plan": [{"at": iso(t), "action": a} for t, a in o.plan],
        }

    def advance(self, req: Request) -> dict[str, Any]:
        o = self._order(req)
        action = _body(req).get("action") or _body(req).get("to")
        if not action:
            raise ControlError(400, "action is required")
        try:
            self.store.advance(o, str(action))
        except ValueError as e:
            raise ControlError(409, str(e)) from None
        return order_summary(o)

    def set_unreadable(self, req: Request) -> dict[str, Any]:
        """GET /order/checkout-forms/{id} answers this 5xx (default 500) until cleared."""
        o = self._order(req)
        status = int(_body(req).get("status", 500))
        if not 500 <= status <= 599:
            raise ControlError(400, "status must be a 5xx")
        self.store.unreadable_forms[o.id] = status
        self.store.dirty = True
        return {"id": o.id, "unreadable": status}

    def clear_unreadable(self, req: Request) -> dict[str, Any]:
        o = self._order(req)
        self.store.unreadable_forms.pop(o.id, None)
        self.store.dirty = True
        return {"id": o.id, "unreadable": None}

    def set_unlisted(self, req: Request) -> dict[str, Any]:
        """GET /order/checkout-forms leaves the form out until cleared (GET by id serves it);
        with ``{"stale": true}`` it serves the form as it is now instead, however it changes."""
        o = self._order(req)
        if _body(req).get("stale"):
            self.store.stale_listed_forms[o.id] = o.json_bytes().decode()
        else:
            self.store.unlisted_forms.add(o.id)
        self.store.dirty = True
        return {"id": o.id, "unlisted": True}

    def clear_unlisted(self, req: Request) -> dict[str, Any]:
        o = self._order(req)
        self.store.unlisted_forms.discard(o.id)
        self.store.stale_listed_forms.pop(o.id, None)
        self.store.dirty = True
        return {"id": o.id, "unlisted": False}

    def fulfillment(self, req: Request) -> dict[str, Any]:
        o = self._order(req)
        return {
            "status": o.cf["fulfillment"]["status"],
            "changes": o.fulfillment_changes,
            "lineItemsSent": o.cf["fulfillment"]["shipmentSummary"]["lineItemsSent"],
            "history": o.fulfillment_history,
        }

    def shipments(self, req: Request) -> dict[str, Any]:
        return {"shipments": self._order(req).shipments}

    def set_delivery_method(self, req: Request) -> dict[str, Any]:
        """Give the order another delivery method by name (one WzA does not serve, say)."""
        o = self._order(req)
        self.store.set_delivery_method(o, str(_body(req).get("name")))
        return {"id": o.id, "method": o.cf["delivery"]["method"]}

    def wza_of_order(self, req: Request) -> dict[str, Any]:
        """The WzA shipments made for an order, cancelled ones included (seller side)."""
        o = self._order(req)
        now = self.store.clock.now()
        return {
            "shipments": [
                sh.wire(now) for sh in self.store.wza_shipments.values() if sh.order_id == o.id
            ]
        }

    def get_wza(self, req: Request) -> dict[str, Any]:
        return self.store.snapshot_shipments()

    def set_wza(self, req: Request) -> dict[str, Any]:
        """command_seconds: how long commands stay IN_PROGRESS; waybill_delay_seconds: how
        long after creation a shipment's waybills appear (sandbox clock)."""
        for key, value in _body(req).items():
            if key not in self.store.wza_config:
                raise ControlError(400, f"unknown setting {key!r}")
            self.store.wza_config[key] = float(value)
        return self.store.snapshot_shipments()

    def _fault_key(self, seller: str | None, client_id: str | None) -> str:
        sid = None
        if seller:
            s = self.store.seller_ref(seller)
            if s is None:
                raise ControlError(404, f"no seller {seller!r}")
            sid = s.id
        return self.store.fault_key(sid, client_id)

    def get_faults(self, req: Request) -> dict[str, Any]:
        return {"faults": self.store.faults, "fields": sorted(FAULT_FIELDS)}

    def set_faults(self, req: Request) -> dict[str, Any]:
        b = _body(req)
        key = self._fault_key(b.pop("seller", None), b.pop("client_id", None))
        return {"key": key, "faults": self.store.set_faults(key, b)}

    def clear_faults(self, req: Request) -> dict[str, Any]:
        seller, cid = req.q("seller"), req.q("client_id")
        key = self._fault_key(seller, cid) if (seller or cid) else None
        self.store.clear_faults(key)
        return {"cleared": key or "all"}

    def get_rate(self, req: Request) -> dict[str, Any]:
        return self.store.rate.config()

    def set_rate(self, req: Request) -> dict[str, Any]:
        b = _body(req)
        rate = self.store.rate
        cid = b.get("client_id")
        if "limit" in b:
            if cid:
                rate.per_client[cid] = int(b["limit"])
            else:
                rate.limit = int(b["limit"])
        if "window_seconds" in b:
            rate.window = float(b["window_seconds"])
        if "block_seconds" in b:
            rate.block_seconds = float(b["block_seconds"])
        if b.get("unblock"):
            rate.blocked_until.clear()
            rate.hits.clear()
        return rate.config()

    def clock(self, req: Request) -> dict[str, Any]:
        c = self.store.clock
        return {"now": iso(c.now()), "epoch": c.now(), "offset_seconds": c.offset}

    def advance_clock(self, req: Request) -> dict[str, Any]:
        seconds = float(_body(req).get("seconds", 0))
        self.store.clock.advance(seconds)
        ran = self.store.tick()
        return dict(self.clock(req), lifecycle_steps=ran)

    def tick(self, req: Request) -> dict[str, Any]:
        return {"lifecycle_steps": self.store.tick()}

    def stats(self, req: Request) -> dict[str, Any]:
        st = self.store
        return {
            "requests": dict(st.requests),
            "by_client": dict(st.requests_by_client),
            "by_status": dict(st.requests_by_status),
            "token_calls": self.token_calls(Request("GET", "", "", {}, b"", "")),
        }

    def issue_code(self, req: Request) -> dict[str, Any]:
        b = _body(req)
        try:
            code = self.app.oauth.issue_code_direct(
                b["client_id"],
                b["login"],
                b["redirect_uri"],
                b.get("scope"),
                b.get("code_challenge"),
                b.get("code_challenge_method"),
            )
        except KeyError as e:
            raise ControlError(404, f"unknown {e}") from None
        return {"code": code}

    def get_buyers(self, req: Request) -> dict[str, Any]:
        return {"orders_per_minute": self.store.buyers_rate, "sellers": self.store.buyers_sellers}

    def set_buyers(self, req: Request) -> dict[str, Any]:
        b = _body(req)
        self.store.buyers_rate = float(b.get("orders_per_minute", 0))
        self.store.buyers_sellers = list(b.get("sellers", []))
        return self.get_buyers(req)

    def public_key(self, req: Request) -> Response:
        return Response(200, self.app.oauth.keys.public_pem.encode(), "application/x-pem-file")

    # ------------------------------------------------------------------ pages
    def page_index(self, req: Request) -> Response:
        st = self.store
        rows = "".join(
            f"<tr><td><a href='{P}/seller/{html.escape(s.login)}'>{html.escape(s.login)}</a></td>"
            f"<td>{s.id}</td>"
            f"<td>{sum(1 for o in st.seller_orders.get(s.id, []) if not o.deleted)}"
            f"</td></tr>"
            for s in st.sellers.values()
        )
        apps = "".join(
            f"<tr><td>{html.escape(c.client_id)}</td><td>{html.escape(c.name)}</td>"
            f"<td>{'<br>'.join(html.escape(u) for u in c.redirect_uris)}</td></tr>"
            for c in st.clients.values()
        )
        body = (
            "<p>Offline simulator of the Allegro REST API. Auth base URL and API base URL are "
            f"both <code>{html.escape(req.base_url)}</code>. Control API under "
            f"<code>{P}/</code> (see allegro_sandbox/README.md).</p>"
            "<h2>Zaloguj się jako sprzedawca</h2>"
            "<form method=post action='/login' class=box>"
            "<label>Login<br><input name=login></label><br>"
            "<label>Hasło<br><input name=password type=password></label><br>"
            "<button>Zaloguj</button></form>"
            f"<h2>Sellers</h2><table><tr><th>login</th><th>id</th><th>orders</th></tr>{rows}"
            "</table>"
            f"<h2>Client apps</h2><table><tr><th>client_id</th><th>name</th><th>redirect URIs"
            f"</th></tr>{apps}</table>"
            f"<p>Clock: {iso(st.clock.now())} · buyers: {st.buyers_rate:g} orders/min</p>"
        )
        return html_page("Allegro sandbox", body)

    def page_login(self, req: Request) -> Response:
        f = req.form()
        seller = self.app.oauth._check_login(f.get("login", ""), f.get("password", ""))
        if seller is None:
            return html_page(
                "Logowanie", "<p>Nieprawidłowy login lub hasło. <a href='/'>Wróć</a></p>", 401
            )
        r = redirect(f"{P}/seller/{seller.login}")
        session = secrets.token_urlsafe(18)
        self.store.sessions[session] = seller.id
        r.headers.append(("Set-Cookie", f"sbx_session={session}; Path=/; HttpOnly; SameSite=Lax"))
        return r

    def page_seller(self, req: Request) -> Response:
        st = self.store
        seller = st.seller_ref(req.params["login"])
        if seller is None:
            return html_page("Nie znaleziono", "<p>No such seller.</p>", 404)
        st.flush_pending(seller.id)
        orders = [o for o in st.seller_orders.get(seller.id, []) if not o.deleted]
        orders = sorted(orders, key=lambda o: o.bought_ts, reverse=True)[:200]
        rows = "".join(
            f"<tr><td><code>{o.id}</code></td><td>{iso(o.bought_ts)}</td>"
            f"<td>{html.escape(o.cf['buyer']['login'])}</td><td>{o.cf['status']}</td>"
            f"<td>{o.cf['fulfillment']['status']} ({o.fulfillment_changes})</td>"
            f"<td>{html.escape(_waybills(o))}"
            f"</td><td>{o.cf['summary']['totalToPay']['amount']} "
            f"{o.cf['summary']['totalToPay']['currency']}</td></tr>"
            for o in orders
        )
        j = st.journals.get(seller.id)
        events = list(reversed(j.events[-100:])) if j else []
        ev_rows = "".join(
            f"<tr><td>{e.id}</td><td>{e.type}</td><td>{iso(e.occurred)}</td>"
            f"<td><code>{e.order_id}</code></td></tr>"
            for e in events
        )
        held = (len(j.withheld), len(j.pending)) if j else (0, 0)
        body = (
            f"<p>Seller id {seller.id} · <a href='/'>home</a> · page refreshes every 5 s</p>"
            f"<h2>Orders ({len(orders)} newest)</h2><table><tr><th>checkout form</th>"
            "<th>bought</th><th>buyer</th><th>status</th><th>fulfillment (changes)</th>"
            f"<th>waybills</th><th>total</th></tr>{rows}</table>"
            f"<h2>Journal (newest 100; withheld {held[0]}, delayed {held[1]})</h2>"
            f"<table><tr><th>id</th><th>type</th><th>occurredAt</th><th>checkout form</th></tr>"
            f"{ev_rows}</table>"
        )
        return html_page(f"Sprzedawca {seller.login}", body, refresh=5)
