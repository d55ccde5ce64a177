"""OAuth 2.0 as Allegro runs it: authorize page, token endpoint, device flow, JWT tokens."""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import uuid
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlparse, urlunparse

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .errors import ApiError, auth_error
from .state import (
    CODE_TTL,
    DEVICE_GRANT,
    DEVICE_INTERVAL,
    DEVICE_TTL,
    ClientApp,
    Seller,
    Store,
    Token,
)
from .web import Request, Response, html_page, json_response, redirect

ISSUER = "https://allegro.pl.allegrosandbox.pl"
SESSION_COOKIE = "sbx_session"
STANDARD_AUTHZ = {
    "response_type",
    "client_id",
    "redirect_uri",
    "state",
    "scope",
    "prompt",
    "code_challenge",
    "code_challenge_method",
}
TOKEN_HEADERS = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]


class Keys:
    """RSA key used to sign JWTs (RS256). Generated at start, kept in the state file."""

    def __init__(self, pem: bytes | None = None) -> None:
        if pem is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        self.pem = pem
        self.private = serialization.load_pem_private_key(pem, password=None)
        self.public_pem = (
            self.private.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )


def _token_error(status: int, error: str, description: str | None = None) -> ApiError:
    body: dict[str, Any] = {"error": error}
    if description is not None:
        body["error_description"] = description
    return ApiError(status, body, headers=dict(TOKEN_HEADERS), content_type="application/json")


def invalid_grant(desc: str) -> ApiError:
    return _token_error(400, "invalid_grant", desc)


class OAuth:
    def __init__(self, store: Store, keys: Keys) -> None:
        self.store = store
        self.keys = keys
        self.auth_requests: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ tokens
    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.keys.private, algorithm="RS256", headers={"typ": "JWT"})

    def mint(
        self, app: ClientApp, seller: Seller | None, scopes: list[str], refresh: bool
    ) -> dict[str, Any]:
        st = self.store
        now = st.clock.now()
        jti = str(uuid.uuid4())
        claims: dict[str, Any] = {}
        if seller is not None:
            claims["user_name"] = seller.id
        claims.update(
            {
                "scope": scopes,
                "allegro_api": True,
                "iss": ISSUER,
                "exp": int(now + app.access_token_ttl),
                "jti": jti,
                "client_id": app.client_id,
            }
        )
        access = self._sign(claims)
        epoch = seller.token_epoch if seller else 0
        st.tokens[access] = Token(
            access,
            "access",
            jti,
            app.client_id,
            seller.id if seller else None,
            scopes,
            now,
            now + app.access_token_ttl,
            epoch,
        )
        out: dict[str, Any] = {"access_token": access, "token_type": "bearer"}
        if refresh and seller is not None:
            rjti = str(uuid.uuid4())
            rclaims = dict(claims, jti=rjti, ati=jti, exp=int(now + app.refresh_token_ttl))
            rtok = self._sign(rclaims)
            st.tokens[rtok] = Token(
                rtok,
                "refresh",
                rjti,
                app.client_id,
                seller.id,
                scopes,
                now,
                now + app.refresh_token_ttl,
                epoch,
                ati=jti,
            )
            out["refresh_token"] = rtok
        out.update(
            {
                "expires_in": app.access_token_ttl,
                "scope": " ".join(scopes),
                "allegro_api": True,
                "jti": jti,
            }
        )
        st.dirty = True
        return out

    def token_valid(self, tok: Token) -> bool:
        if tok.revoked:
            return False
        if tok.seller_id is not None:
            seller = self.store.sellers.get(tok.seller_id)
            if seller is None or seller.token_epoch != tok.epoch:
                return False
        return True

    def authenticate(self, req: Request) -> Token:
        """Resource-server bearer check; raises the 401 bodies Allegro sends."""
        header = req.header("Authorization") or ""
        if not header.lower().startswith("bearer ") or not header[7:].strip():
            raise auth_error(
                401,
                "unauthorized",
                "Full authentication is required to access this resource",
                **{"WWW-Authenticate": 'Bearer realm="allegro-api"'},
            )
        raw = header[7:].strip()
        tok = self.store.tokens.get(raw)
        if tok is None or tok.kind != "access":
            raise auth_error(
                401,
                "invalid_token",
                "Cannot convert access token to JSON",
                **{
                    "WWW-Authenticate": 'Bearer realm="allegro-api", '
                    'error="invalid_token", error_description="Cannot convert '
                    'access token to JSON"'
                },
            )
        if not self.token_valid(tok):
            raise auth_error(
                401,
                "invalid_token",
                f"Invalid access token: {raw}",
                **{"WWW-Authenticate": 'Bearer realm="allegro-api", error="invalid_token"'},
            )
        if self.store.clock.now() >= tok.exp:
            raise auth_error(
                401,
                "invalid_token",
                f"Access token expired: {raw}",
                **{
                    "WWW-Authenticate": 'Bearer realm="allegro-api", '
                    'error="invalid_token", error_description="Access token '
                    'expired"'
                },
            )
        return tok

    # ------------------------------------------------------------------ token endpoint
    def _client_from_basic(self, req: Request) -> ClientApp | bool | None:
        """App for valid Basic credentials; None if no Basic header; False if bad ones."""
        header = req.header("Authorization") or ""
        if not header.lower().startswith("basic "):
            return None
        try:
            cid, _, secret = base64.b64decode(header[6:].strip()).decode().partition(":")
        except Exception:
            return False
        app = self.store.clients.get(cid)
        if app is None or not secrets.compare_digest(app.client_secret, secret):
            return False
        return app

    def token_endpoint(self, req: Request) -> Response:
        params = {k: v[0] for k, v in req.query.items()}
        params.update(req.form())
        st = self.store
        grant = params.get("grant_type", "")
        basic = self._client_from_basic(req)
        cid = basic.client_id if isinstance(basic, ClientApp) else params.get("client_id", "?")
        st.token_calls[cid][grant or "(none)"] += 1
        if basic is False:
            raise _token_error(400, "invalid_request", "Unauthorized")
        app: ClientApp | None = basic if isinstance(basic, ClientApp) else None
        pkce_only = False
        if app is None:
            # PKCE: client_id + code_verifier instead of the secret
            app = st.clients.get(params.get("client_id", ""))
            if app is None or grant != "authorization_code" or not params.get("code_verifier"):
                raise _token_error(400, "invalid_request", "Unauthorized")
            pkce_only = True
        if not grant:
            raise _token_error(400, "invalid_request", "Missing grant type")
        if grant not in ("authorization_code", "refresh_token", "client_credentials", DEVICE_GRANT):
            raise _token_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")
        if grant not in app.grant_types:
            short = "device_code" if grant == DEVICE_GRANT else grant
            raise _token_error(
                400, "unauthorized_client", f"Client does not have the {short} grant."
            )
        if grant == "authorization_code":
            body = self._grant_code(app, params, pkce_only)
        elif grant == "refresh_token":
            body = self._grant_refresh(app, params)
        elif grant == "client_credentials":
            body = self.mint(app, None, list(app.scopes), refresh=False)
        else:
            body = self._grant_device(app, params)
        st.token_calls[cid][(grant or "(none)") + ":ok"] += 1
        r = json_response(body, 200, "application/json;charset=UTF-8")
        r.headers.extend(TOKEN_HEADERS)
        return r

    def _grant_code(self, app: ClientApp, p: dict[str, str], pkce_only: bool) -> dict[str, Any]:
        st = self.store
        code = p.get("code")
        if not code:
            raise _token_error(400, "invalid_request", "An authorization code must be supplied.")
        rec = st.codes.pop(code, None)  # one-time, even if the rest fails
        now = st.clock.now()
        if rec is None or rec["client_id"] != app.client_id or now > rec["created"] + CODE_TTL:
            raise invalid_grant(f"Invalid authorization code: {code}")
        if rec["redirect_uri"] and p.get("redirect_uri") != rec["redirect_uri"]:
            raise invalid_grant("Redirect URI mismatch.")
        challenge = rec.get("code_challenge")
        verifier = p.get("code_verifier")
        if challenge:
            if not verifier or not 43 <= len(verifier) <= 128:
                raise invalid_grant("Invalid code verifier")
            if rec.get("code_challenge_method", "plain") == "S256":
                digest = hashlib.sha256(verifier.encode()).digest()
                computed = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            else:
                computed = verifier
            if not secrets.compare_digest(computed, challenge):
                raise invalid_grant("Invalid code verifier")
        elif pkce_only:
            raise _token_error(400, "invalid_request", "Unauthorized")
        seller = st.sellers.get(rec["seller_id"])
        if seller is None or seller.token_epoch != rec["epoch"]:
            raise invalid_grant(f"Invalid authorization code: {code}")
        return self.mint(app, seller, rec["scopes"], refresh=True)

    def _grant_refresh(self, app: ClientApp, p: dict[str, str]) -> dict[str, Any]:
        st = self.store
        raw = p.get("refresh_token")
        if not raw:
            raise _token_error(400, "invalid_request", "Missing refresh token")
        tok = st.tokens.get(raw)
        now = st.clock.now()
        if (
            tok is None
            or tok.kind != "refresh"
            or tok.client_id != app.client_id
            or not self.token_valid(tok)
            or now >= tok.exp
            or (tok.first_used is not None and now > tok.first_used + app.refresh_grace_seconds)
        ):
            raise invalid_grant(f"Invalid refresh token: {raw}")
        if tok.first_used is None:
            tok.first_used = now
            if app.revoke_access_on_refresh:
                for t in st.tokens.values():
                    if t.kind == "access" and t.jti == tok.ati:
                        t.revoked = True
                        break
        seller = st.sellers[tok.seller_id] if tok.seller_id else None
        return self.mint(app, seller, tok.scopes, refresh=True)

    # ------------------------------------------------------------------ device flow
    def device_endpoint(self, req: Request) -> Response:
        st = self.store
        params = {k: v[0] for k, v in req.query.items()}
        params.update(req.form())
        basic = self._client_from_basic(req)
        if not isinstance(basic, ClientApp) or (
            params.get("client_id") and params["client_id"] != basic.client_id
        ):
            raise _token_error(400, "invalid_request", "Unauthorized")
        app = basic
        st.token_calls[app.client_id]["device"] += 1
        if DEVICE_GRANT not in app.grant_types:
            raise _token_error(
                400, "unauthorized_client", "Client does not have the device_code grant."
            )
        user_code = "".join(secrets.choice("abcdefghijkmnpqrstuvwxyz23456789") for _ in range(9))
        device_code = str(secrets.randbelow(900_000_000) + 100_000_000)
        st.devices[device_code] = {
            "client_id": app.client_id,
            "user_code": user_code,
            "created": st.clock.now(),
            "scopes": self._granted_scopes(app, params.get("scope")),
            "status": "pending",
            "seller_id": None,
            "last_poll": None,
        }
        uri = f"{req.base_url}/skojarz-aplikacje"
        return json_response(
            {
                "user_code": user_code,
                "device_code": device_code,
                "expires_in": str(DEVICE_TTL),
                "interval": str(DEVICE_INTERVAL),
                "verification_uri": uri,
                "verification_uri_complete": f"{uri}?code={user_code}",
            },
            200,
            "application/json;charset=UTF-8",
        )

    def _grant_device(self, app: ClientApp, p: dict[str, str]) -> dict[str, Any]:
        st = self.store
        rec = st.devices.get(p.get("device_code", ""))
        if rec is None or rec["client_id"] != app.client_id or rec["status"] == "used":
            raise _token_error(400, "Invalid device code")
        now = st.clock.now()
        if now > rec["created"] + DEVICE_TTL:
            raise _token_error(400, "expired_token", "Device code expired")
        last, rec["last_poll"] = rec["last_poll"], now
        if rec["status"] == "denied":
            raise _token_error(400, "access_denied")
        if last is not None and now - last < DEVICE_INTERVAL and rec["status"] == "pending":
            raise _token_error(400, "slow_down")
        if rec["status"] == "pending":
            raise _token_error(400, "authorization_pending")
        seller = st.sellers[rec["seller_id"]]
        rec["status"] = "used"
        return self.mint(app, seller, rec["scopes"], refresh=True)

    def device_page(self, req: Request) -> Response:
        st = self.store
        f = req.form() if req.method == "POST" else {}
        user_code = f.get("code") or req.q("code") or ""
        msg = ""
        if req.method == "POST":
            rec = next(
                (
                    d
                    for d in st.devices.values()
                    if d["user_code"] == user_code and d["status"] == "pending"
                ),
                None,
            )
            seller = self._check_login(f.get("login", ""), f.get("password", ""))
            if rec is None:
                msg = "Nieprawidłowy kod."
            elif seller is None:
                msg = "Nieprawidłowy login lub hasło."
            else:
                rec["status"] = "approved" if f.get("action") != "deny" else "denied"
                rec["seller_id"] = seller.id
                word = "powiązana" if rec["status"] == "approved" else "odrzucona"
                return html_page("Skojarz aplikację", f"<p>Aplikacja została {word}.</p>")
        body = (f"<p class=err>{html.escape(msg)}</p>" if msg else "") + (
            "<form method=post class=box>"
            f'<label>Kod<br><input name=code value="{html.escape(user_code)}"></label><br>'
            "<label>Login<br><input name=login></label><br>"
            "<label>Hasło<br><input name=password type=password></label><br>"
            "<button name=action value=approve>Powiąż aplikację</button> "
            "<button name=action value=deny>Odrzuć</button></form>"
        )
        return html_page("Skojarz aplikację", body, 200 if not msg else 400)

    # ------------------------------------------------------------------ authorize
    def _check_login(self, login: str, password: str) -> Seller | None:
        seller = self.store.seller_by_login(login)
        if seller and secrets.compare_digest(seller.password, password):
            return seller
        return None

    def _granted_scopes(self, app: ClientApp, requested: str | None) -> list[str]:
        if not requested or not requested.strip():
            return list(app.scopes)
        want = set(requested.replace(",", " ").split())
        return [s for s in app.scopes if s in want]

    def _error_page(self, req: Request, why: str) -> Response:
        return html_page(
            "Nie możemy wyświetlić strony",
            f"<p>Numer błędu: {html.escape(req.trace_id)}</p><p><small>{html.escape(why)}"
            "</small></p>",
            400,
        )

    def _redirect_back(self, ar: dict[str, Any], params: list[tuple[str, str]]) -> Response:
        if ar.get("state") is not None:
            params.append(("state", ar["state"]))
        params.extend(ar["extra"])
        parts = urlparse(ar["redirect_uri"])
        query = parts.query
        add = urlencode(params, quote_via=quote)
        query = f"{query}&{add}" if query else add
        return redirect(urlunparse(parts._replace(query=query)))

    def _issue_code(self, ar: dict[str, Any], seller: Seller) -> Response:
        st = self.store
        code = secrets.token_urlsafe(24)[:32]
        st.codes[code] = {
            "client_id": ar["client_id"],
            "redirect_uri": ar["redirect_uri"],
            "seller_id": seller.id,
            "scopes": ar["scopes"],
            "created": st.clock.now(),
            "code_challenge": ar.get("code_challenge"),
            "code_challenge_method": ar.get("code_challenge_method"),
            "epoch": seller.token_epoch,
        }
        return self._redirect_back(ar, [("code", code)])

    def issue_code_direct(
        self,
        client_id: str,
        login: str,
        redirect_uri: str,
        scope: str | None = None,
        code_challenge: str | None = None,
        code_challenge_method: str | None = None,
    ) -> str:
        """Control API helper: a code as if the seller had logged in and confirmed."""
        st = self.store
        app = st.clients[client_id]
        seller = st.seller_by_login(login)
        if seller is None:
            raise KeyError(login)
        if redirect_uri not in app.redirect_uris:
            raise ValueError("redirect_uri is not registered for this client")
        code = secrets.token_urlsafe(24)[:32]
        st.codes[code] = {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "seller_id": seller.id,
            "scopes": self._granted_scopes(app, scope),
            "created": st.clock.now(),
            "code_challenge": code_challenge,
            "code_challenge_method": code_challenge_method or ("plain" if code_challenge else None),
            "epoch": seller.token_epoch,
        }
        return code

    def _login_form(
        self, ticket: str, app: ClientApp, msg: str = "", status: int = 200
    ) -> Response:
        err = f'<p style="color:#c00">{html.escape(msg)}</p>' if msg else ""
        body = (
            f"<p>Aplikacja <b>{html.escape(app.name)}</b> ({html.escape(app.client_id)}) prosi "
            "o dostęp do Twojego konta.</p>"
            + err
            + '<form method=post action="/auth/oauth/authorize" class=box>'
            f'<input type=hidden name=ticket value="{ticket}">'
            "<label>Login lub e-mail<br><input name=login autofocus></label><br>"
            "<label>Hasło<br><input name=password type=password></label><br>"
            "<button name=action value=login>Zaloguj się</button> "
            "<button name=action value=cancel>Anuluj</button></form>"
        )
        return html_page("Zaloguj się", body, status)

    def _confirm_form(self, ticket: str, app: ClientApp, seller: Seller) -> Response:
        body = (
            f"<p>Jesteś zalogowany jako <b>{html.escape(seller.login)}</b>. Czy chcesz powiązać "
            f"to konto z aplikacją <b>{html.escape(app.name)}</b>?</p>"
            '<form method=post action="/auth/oauth/authorize" class=box>'
            f'<input type=hidden name=ticket value="{ticket}">'
            "<button name=action value=confirm>Potwierdź</button> "
            "<button name=action value=switch>Zmień konto</button> "
            "<button name=action value=cancel>Anuluj</button></form>"
        )
        return html_page("Potwierdź konto", body)

    def _session_seller(self, req: Request) -> Seller | None:
        sid = self.store.sessions.get(req.cookies().get(SESSION_COOKIE, ""))
        return self.store.sellers.get(sid) if sid else None

    def authorize_get(self, req: Request) -> Response:
        st = self.store
        p = {k: v[0] for k, v in req.query.items()}
        app = st.clients.get(p.get("client_id", ""))
        if app is None:
            return self._error_page(req, "unknown client_id")
        redirect_uri = p.get("redirect_uri", "")
        if redirect_uri not in app.redirect_uris:
            return self._error_page(req, "redirect_uri does not match a registered one")
        if p.get("response_type") != "code":
            return self._error_page(req, "response_type must be code")
        method = p.get("code_challenge_method")
        if p.get("code_challenge") and (method or "plain") not in ("S256", "plain"):
            return self._error_page(req, "unsupported code_challenge_method")
        ar = {
            "client_id": app.client_id,
            "redirect_uri": redirect_uri,
            "state": p.get("state"),
            "scopes": self._granted_scopes(app, p.get("scope")),
            "prompt": p.get("prompt"),
            "code_challenge": p.get("code_challenge"),
            "code_challenge_method": (method or "plain") if p.get("code_challenge") else None,
            "extra": [
                (k, v)
                for k, v in parse_qsl(req.raw_query, keep_blank_values=True)
                if k not in STANDARD_AUTHZ
            ],
        }
        if not ar["scopes"]:
            return self._redirect_back(ar, [("error", "invalid_scope")])
        ticket = secrets.token_urlsafe(16)
        self.auth_requests[ticket] = ar
        seller = self._session_seller(req)
        if seller is not None:
            if ar["prompt"] == "confirm":
                return self._confirm_form(ticket, app, seller)
            self.auth_requests.pop(ticket)
            return self._issue_code(ar, seller)
        return self._login_form(ticket, app)

    def authorize_post(self, req: Request) -> Response:
        st = self.store
        f = req.form()
        ar = self.auth_requests.get(f.get("ticket", ""))
        if ar is None:
            return self._error_page(req, "authorization request expired")
        app = st.clients[ar["client_id"]]
        ticket = f["ticket"]
        action = f.get("action", "login")
        if action == "cancel":
            self.auth_requests.pop(ticket, None)
            return self._redirect_back(ar, [("error", "access_denied")])
        if action == "switch":
            r = self._login_form(ticket, app)
            r.headers.append(("Set-Cookie", f"{SESSION_COOKIE}=; Path=/; Max-Age=0"))
            return r
        if action == "confirm":
            seller = self._session_seller(req)
            if seller is None:
                return self._login_form(ticket, app)
            self.auth_requests.pop(ticket, None)
            return self._issue_code(ar, seller)
        seller = self._check_login(f.get("login", ""), f.get("password", ""))
        if seller is None:
            return self._login_form(ticket, app, "Nieprawidłowy login lub hasło.", 200)
        session = secrets.token_urlsafe(18)
        st.sessions[session] = seller.id
        cookie = ("Set-Cookie", f"{SESSION_COOKIE}={session}; Path=/; HttpOnly; SameSite=Lax")
        if ar["prompt"] == "confirm":
            r = self._confirm_form(ticket, app, seller)
        else:
            self.auth_requests.pop(ticket, None)
            r = self._issue_code(ar, seller)
        r.headers.append(cookie)
        return r
