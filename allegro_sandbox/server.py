"""HTTP server (stdlib ThreadingHTTPServer, HTTP/1.1 keep-alive) and request pipeline."""

from __future__ import annotations

import contextlib
import re
import secrets
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .api import Api
from .clock import Clock
from .control import Control
from .errors import PUBLIC_V1, ApiError, errors
from .oauth import Keys, OAuth
from .quantity_api import QuantityApi
from .shipment_api import ShipmentApi
from .state import Persistence, Store
from .web import Request, Response, error_response

NOT_ACCEPTABLE = ApiError(
    406,
    {
        "errors": [
            {
                "code": "NotAcceptableException",
                "message": (
                    "Not acceptable representation requested. Please check 'Accept' request header"
                ),
                "details": None,
                "path": None,
                "userMessage": "Request contains invalid data. Contact the application author.",
                "metadata": {},
            }
        ]
    },
    content_type="application/json; charset=utf-8",
)
NOT_SUPPORTED = ApiError(
    415,
    {
        "errors": [
            {
                "code": "NotSupportedException",
                "message": "Unsupported content type. Please check 'Content-Type' request header",
                "details": None,
                "path": None,
                "userMessage": "Request contains invalid data. Contact the application author.",
                "metadata": {},
            }
        ]
    },
    content_type="application/json; charset=utf-8",
)


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    name: str
    handler: Callable[[Request], Response]
    kind: str  # api | auth | token | control | page
    scope: str | None = None
    user: bool = True
    body: bool = False


class App:
    def __init__(self, store: Store, keys: Keys) -> None:
        self.store = store
        self.oauth = OAuth(store, keys)
        self.api = Api(store)
        self.control = Control(self)
        self.routes: list[Route] = []
        a, o = self.api, self.oauth
        rd, wr = "allegro:api:orders:read", "allegro:api:orders:write"
        offers = "allegro:api:sale:offers:read"
        cf = r"/order/checkout-forms/(?P<id>[^/]+)"
        self._add("GET", r"/me", "me", a.me, "api", "allegro:api:profile:read")
        profile_rd, profile_wr = "allegro:api:profile:read", "allegro:api:profile:write"
        emails = r"/account/additional-emails"
        self._add("GET", emails, "emails_get", a.additional_emails, "api", profile_rd)
        self._add(
            "POST", emails, "emails_post", a.add_additional_email, "api", profile_wr, body=True
        )
        email = emails + r"/(?P<emailId>[^/]+)"
        self._add("GET", email, "email_get", a.additional_email, "api", profile_rd)
        self._add("DELETE", email, "email_delete", a.delete_additional_email, "api", profile_wr)
        self._add("GET", r"/order/events", "order_events", a.order_events, "api", rd)
        self._add("GET", r"/order/event-stats", "event_stats", a.event_stats, "api", rd)
        self._add("GET", r"/order/checkout-forms", "checkout_forms", a.checkout_forms, "api", rd)
        self._add("GET", cf, "checkout_form", a.checkout_form, "api", rd)
        self._add(
            "PUT", cf + "/fulfillment", "fulfillment", a.put_fulfillment, "api", wr, body=True
        )
        self._add("GET", cf + "/shipments", "shipments_get", a.get_shipments, "api", rd)
        self._add(
            "POST", cf + "/shipments", "shipments_post", a.post_shipment, "api", wr, body=True
        )
        self._add("GET", r"/order/carriers", "carriers", a.carriers, "api", None, user=False)
        self._add("GET", r"/sale/offers", "sale_offers", a.sale_offers, "api", offers)
        self._add(
            "GET",
            r"/sale/product-offers/(?P<offerId>[^/]+)",
            "product_offer",
            a.product_offer,
            "api",
            offers,
        )
        self._add("GET", r"/sale/offer-events", "offer_events", a.offer_events, "api", offers)
        self._shipment_routes(ShipmentApi(store))
        q, qc = QuantityApi(store), r"/sale/offer-quantity-change-commands/(?P<commandId>[^/]+)"
        offers_wr = "allegro:api:sale:offers:write"
        self._add("PUT", qc, "sale_qty_put", q.put_command, "api", offers_wr, body=True)
        self._add("GET", qc, "sale_qty_get", q.get_command, "api", offers_wr)
        self._add("GET", qc + "/tasks", "sale_qty_tasks", q.get_tasks, "api", offers_wr)
        self._add("GET", r"/__sandbox__/quantity-commands", "c_qty", q.control_list, "control")
        self._add("PUT", r"/__sandbox__/quantity", "c_qty_set", q.control_config, "control")
        self._add("GET", r"/auth/oauth/authorize", "authorize", o.authorize_get, "page")
        self._add("POST", r"/auth/oauth/authorize", "authorize", o.authorize_post, "page")
        self._add("POST", r"/auth/oauth/token", "token", o.token_endpoint, "token")
        self._add("POST", r"/auth/oauth/device", "device", o.device_endpoint, "token")
        self._add("GET", r"/skojarz-aplikacje", "device_page", o.device_page, "page")
        self._add("POST", r"/skojarz-aplikacje", "device_page", o.device_page, "page")
        for method, pattern, name, handler in self.control.routes():
            self._add(
                method,
                pattern,
                name,
                handler,
                "control"
                if pattern.startswith("/__sandbox__/") and "seller/" not in pattern
                else "page",
            )

    def _shipment_routes(self, s: ShipmentApi) -> None:
        rd, wr = "allegro:api:shipments:read", "allegro:api:shipments:write"
        sm = r"/shipment-management"
        cmd = r"/(?P<commandId>[^/]+)"
        table = [
            (
                "GET",
                sm + r"/delivery-proposals/(?P<orderId>[^/]+)",
                "wza_proposals",
                s.delivery_proposals,
                wr,
                False,
            ),
            ("POST", sm + "/shipments/create-commands", "wza_create", s.create_command, wr, True),
            (
                "GET",
                sm + "/shipments/create-commands" + cmd,
                "wza_create_status",
                s.create_status,
                wr,
                False,
            ),
            ("POST", sm + "/shipments/cancel-commands", "wza_cancel", s.cancel_command, wr, True),
            (
                "GET",
                sm + "/shipments/cancel-commands" + cmd,
                "wza_cancel_status",
                s.cancel_status,
                wr,
                False,
            ),
            (
                "GET",
                sm + r"/shipments/(?P<shipmentId>[^/]+)",
                "wza_shipment",
                s.shipment,
                rd,
                False,
            ),
            ("POST", sm + "/label", "wza_label", s.label, rd, True),
            ("POST", sm + "/protocol", "wza_protocol", s.protocol, rd, True),
            (
                "POST",
                sm + "/pickup-proposals",
                "wza_pickup_proposals",
                s.pickup_proposals,
                wr,
                True,
            ),
            ("POST", sm + "/pickups/create-commands", "wza_pickup", s.pickup_command, wr, True),
            (
                "GET",
                sm + "/pickups/create-commands" + cmd,
                "wza_pickup_status",
                s.pickup_status,
                wr,
                False,
            ),
            ("GET", sm + r"/pickups/(?P<pickupId>[^/]+)", "wza_pickup_get", s.pickup, wr, False),
        ]
        for method, pattern, name, handler, scope, body in table:
            self._add(method, pattern, name, handler, "api", scope, body=body)

    def _add(
        self,
        method: str,
        pattern: str,
        name: str,
        handler: Callable[[Request], Response],
        kind: str,
        scope: str | None = None,
        user: bool = True,
        body: bool = False,
    ) -> None:
        self.routes.append(
            Route(method, re.compile(pattern + "$"), name, handler, kind, scope, user, body)
        )

    def match(self, method: str, path: str) -> tuple[Route | None, dict[str, str], bool]:
        path_known = False
        for r in self.routes:
            m = r.pattern.match(path)
            if m:
                path_known = True
                if r.method == method:
                    return r, m.groupdict(), True
        return None, {}, path_known

    # ------------------------------------------------------------------ pipeline
    def handle(self, req: Request) -> Response:
        req.trace_id = secrets.token_hex(16)
        route, params, known = self.match(req.method, req.path)
        if route is None:
            status = 405 if known else 404
            err = errors(
                status,
                "NotFoundException" if status == 404 else "MethodNotAllowedException",
                "Resource not found" if status == 404 else "Method not allowed",
                path=req.path,
            )
            return self._finish(req, None, error_response(err))
        req.params = params
        try:
            if route.kind == "api":
                resp = self._api(route, req)
            elif route.kind == "token":
                resp = self._token(route, req)
            else:
                with self.store.lock:
                    resp = route.handler(req)
        except ApiError as e:
            resp = error_response(e)
        except Exception:
            traceback.print_exc()
            resp = error_response(errors(500, "INTERNAL_SERVER_ERROR", "Internal server error"))
        return self._finish(req, route, resp)

    def _finish(self, req: Request, route: Route | None, resp: Response) -> Response:
        resp.headers.append(("trace-id", req.trace_id))
        st = self.store
        if route is None or route.kind in ("api", "token"):
            with st.lock:
                st.requests[route.name if route else "unknown"] += 1
                st.requests["total"] += 1
                st.requests_by_status[str(resp.status)] += 1
                if req.auth is not None:
                    st.requests_by_client[req.auth.client_id] += 1
        return resp

    def _request_faults(
        self, req: Request, seller_id: str | None, client_id: str | None
    ) -> Response | None:
        st = self.store
        with st.lock:
            faults, rng = st.request_faults(seller_id, client_id)
            if not faults:
                return None
            prefix = faults.get("path_prefix")
            if prefix and not req.path.startswith(prefix):
                return None
            hit = st._hit
            reset = hit(rng, faults.get("reset"))
            hang = not reset and hit(rng, faults.get("timeout"))
            fail = not reset and not hang and hit(rng, faults.get("error_5xx"))
            latency = faults.get("latency_ms") or 0
            hang_seconds = faults.get("hang_seconds", 120.0)
            status = int(faults.get("error_status", 500))
            release = st.hang_release
        if latency:
            time.sleep(latency / 1000)
        if reset:
            r = Response(0)
            r.action = "reset"
            return r
        if hang:
            release.wait(hang_seconds)
            r = Response(0)
            r.action = "hang"
            return r
        if fail:
            reason = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
            return error_response(
                errors(
                    status,
                    "INTERNAL_SERVER_ERROR" if status == 500 else reason.upper().replace(" ", "_"),
                    "Sandbox injected failure",
                    path=req.path,
                )
            )
        return None

    def _token(self, route: Route, req: Request) -> Response:
        faults_hit = None
        with self.store.lock:
            any_auth_faults = any(f.get("include_auth") for f in self.store.faults.values())
        if any_auth_faults:
            cid = None
            basic = self.oauth._client_from_basic(req)
            if basic:
                cid = basic.client_id
            with self.store.lock:
                faults, _ = self.store.request_faults(None, cid)
                include = faults.get("include_auth")
            if include:
                faults_hit = self._request_faults(req, None, cid)
        if faults_hit is not None:
            return faults_hit
        with self.store.lock:
            return route.handler(req)

    def _api(self, route: Route, req: Request) -> Response:
        st = self.store
        with st.lock:
            tok = self.oauth.authenticate(req)
            req.auth = tok
            if not st.rate.check(tok.client_id):
                raise errors(
                    429,
                    "TOO_MANY_REQUESTS",
                    "Too many requests. Rate limit for this client id exceeded.",
                    path=req.path,
                )
        faulted = self._request_faults(req, tok.seller_id, tok.client_id)
        if faulted is not None:
            return faulted
        with st.lock:
            if route.user and tok.seller_id is None:
                if route.name == "me":
                    raise errors(
                        500, "INTERNAL_SERVER_ERROR", "Internal server error", path=req.path
                    )
                if route.name.startswith(("sale", "product", "offer")):
                    raise errors(
                        403, "UserRepresentativeException", "Empty user_name claim", path=req.path
                    )
                raise errors(
                    403, "EMPTY_USER_ID", "User name from JWT cannot be empty", path=req.path
                )
            if route.scope and route.scope not in tok.scopes:
                wza = req.path.startswith("/shipment-management")  # its errors have no null details
                raise ApiError(
                    403,
                    {
                        "errors": [
                            {
                                "code": "AccessDenied",
                                "message": "Access is denied",
                                **({} if wza else {"details": None}),
                                "path": req.path,
                                "userMessage": "Access is denied",
                                "metadata": {},
                            }
                        ]
                    },
                    headers={
                        "WWW-Authenticate": (
                            'Bearer error="insufficient_scope", error_description="Insufficient '
                            f'scope for this resource", scope="{route.scope}"'
                        )
                    },
                )
            if not accepts_public(req.header("Accept")):
                raise NOT_ACCEPTABLE
            if route.body:
                ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
                if ctype != PUBLIC_V1:
                    raise NOT_SUPPORTED
            return route.handler(req)


def accepts_public(accept: str | None) -> bool:
    if not accept:
        return False
    return any(part.split(";")[0].strip().lower() == PUBLIC_V1 for part in accept.split(","))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AllegroSandbox/1.0"
    app: App  # set on the subclass by make_server

    def setup(self) -> None:
        super().setup()
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        path, _, query = self.path.partition("?")
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        req = Request(self.command, path, query, self.headers, body, f"http://{host}")
        resp = self.app.handle(req)
        if resp.action == "reset":
            self.close_connection = True
            try:
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
            except OSError:
                pass
            return
        if resp.action == "hang":
            self.close_connection = True
            return
        reason = (
            HTTPStatus(resp.status).phrase
            if resp.status in HTTPStatus._value2member_map_
            else "Unknown"
        )
        lines = [
            f"HTTP/1.1 {resp.status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {self.date_time_string()}",
        ]
        if resp.status != 204:
            lines.append(f"Content-Type: {resp.content_type or 'application/octet-stream'}")
            lines.append(f"Content-Length: {len(resp.body)}")
        lines.extend(f"{k}: {v}" for k, v in resp.headers)
        if self.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1", "replace")
        payload = head if self.command == "HEAD" or resp.status == 204 else head + resp.body
        try:
            self.wfile.write(payload)
        except OSError:
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256


def make_server(app: App, host: str, port: int) -> Server:
    handler = type("BoundHandler", (Handler,), {"app": app})
    return Server((host, port), handler)


class Background:
    """Lifecycle ticker, buyer generator and state saver threads."""

    def __init__(self, app: App, persistence: Persistence | None) -> None:
        self.app = app
        self.persistence = persistence
        self.stop = threading.Event()
        self._carry = 0.0
        self._last = time.monotonic()

    def start(self) -> None:
        threading.Thread(target=self._loop, name="sandbox-ticker", daemon=True).start()

    def _loop(self) -> None:
        last_save = time.monotonic()
        while not self.stop.wait(0.5):
            try:
                self.step()
                if self.persistence and time.monotonic() - last_save > 2:
                    self.persistence.save(self.app.store)
                    last_save = time.monotonic()
            except Exception:
                traceback.print_exc()

    def step(self, elapsed: float | None = None) -> None:
        """Run due lifecycle steps and let the buyers place the orders of the time since the
        last step (``elapsed`` seconds; measured when not given). The carry keeps fractions
        of an order between steps, so the rate is the option's orders per minute exactly,
        whatever the tick length."""
        st = self.app.store
        now = time.monotonic()
        dt, self._last = (now - self._last if elapsed is None else elapsed), now
        with st.lock:
            st.tick()
            if st.buyers_rate <= 0:
                self._carry = 0.0
                return
            sellers = [st.seller_ref(s) for s in st.buyers_sellers] or list(st.sellers.values())
            sellers = [s for s in sellers if s is not None]
            if not sellers:
                return
            self._carry += st.buyers_rate / 60.0 * max(0.0, dt)
            # A hair of tolerance: 120 half-second steps of 2/min add up to 1.9999999…
            while self._carry >= 1.0 - 1e-9:
                self._carry = max(0.0, self._carry - 1.0)
                seller = st.rng.choice(sellers)
                st.create_orders(seller, 1, status="BOUGHT", auto_lifecycle=True)


def build(seed: int = 1234, state_file: str | None = None) -> tuple[App, Persistence | None]:
    clock = Clock()
    store = Store(clock, seed)
    persistence = None
    keys = None
    if state_file:
        persistence = Persistence(state_file)
        store.persist = persistence
        if persistence.has_state():
            persistence.load(store)
            row = persistence.db.execute("SELECT value FROM kv WHERE key='rsa'").fetchone()
            if row:
                keys = Keys(row[0].encode())
    if keys is None:
        keys = Keys()
        if persistence:
            with persistence.db:
                persistence.db.execute(
                    "INSERT OR REPLACE INTO kv VALUES ('rsa', ?)", (keys.pem.decode(),)
                )
    return App(store, keys), persistence
