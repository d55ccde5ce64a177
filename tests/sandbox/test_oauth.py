"""OAuth rules of Allegro, shown over real HTTP against the sandbox process."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests

from tests.sandbox.helpers import REDIRECT, Api, Connected, jwt_claims, one_error
from tests.sandbox_support import SandboxControl

VERIFIER = "v" * 20 + "-verifier-0123456789abcdef"  # 45 chars


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


@pytest.fixture
def app(allegro_sandbox: SandboxControl) -> SandboxControl:
    sb = allegro_sandbox
    sb.create_seller("anna", "pass-anna", id="50000001", offers=3)
    sb.create_client_app("app-1", "secret-1", [REDIRECT], name="Test app")
    return sb


def token_post(
    sb: SandboxControl,
    data: dict[str, str],
    auth: tuple[str, str] | None = ("app-1", "secret-1"),
    params: dict[str, str] | None = None,
) -> requests.Response:
    return requests.post(
        f"{sb.base_url}/auth/oauth/token", data=data, params=params, auth=auth, timeout=10
    )


def test_authorize_requires_registered_client_and_exact_redirect_uri(app: SandboxControl) -> None:
    url = f"{app.base_url}/auth/oauth/authorize"
    base = {"response_type": "code", "client_id": "app-1"}
    r = requests.get(url, params={**base, "redirect_uri": REDIRECT + "/"}, timeout=10)
    assert r.status_code == 400
    assert "Nie możemy wyświetlić strony" in r.text and "Numer błędu" in r.text
    r = requests.get(
        url, params={**base, "client_id": "nope", "redirect_uri": REDIRECT}, timeout=10
    )
    assert r.status_code == 400
    r = requests.get(url, params={**base, "redirect_uri": REDIRECT}, timeout=10)
    assert r.status_code == 200
    assert "name=password type=password" in r.text


def test_login_redirects_with_code_state_and_extra_params(app: SandboxControl) -> None:
    location = app.authorize(
        "app-1", REDIRECT, "anna", "pass-anna", state="ą b&c=1", extra={"shop": "42"}
    )
    assert location.startswith(REDIRECT + "?code=")
    assert "state=%C4%85%20b%26c%3D1" in location
    qs = parse_qs(urlparse(location).query)
    assert qs["state"] == ["ą b&c=1"]
    assert qs["shop"] == ["42"]
    tokens = app.exchange_code("app-1", "secret-1", qs["code"][0], REDIRECT)
    assert tokens["token_type"] == "bearer"


def test_wrong_password_and_cancel(app: SandboxControl) -> None:
    s = requests.Session()
    r = s.get(
        f"{app.base_url}/auth/oauth/authorize",
        params={
            "response_type": "code",
            "client_id": "app-1",
            "redirect_uri": REDIRECT,
            "state": "s1",
        },
        timeout=10,
    )
    ticket = r.text.split('name=ticket value="')[1].split('"')[0]
    r = s.post(
        f"{app.base_url}/auth/oauth/authorize",
        data={"ticket": ticket, "login": "anna", "password": "bad", "action": "login"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 200
    assert "Nieprawidłowy login lub hasło." in r.text
    r = s.post(
        f"{app.base_url}/auth/oauth/authorize",
        data={"ticket": ticket, "action": "cancel"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302
    assert r.headers["Location"] == REDIRECT + "?error=access_denied&state=s1"


def test_prompt_confirm_shows_account_confirmation(app: SandboxControl) -> None:
    s = requests.Session()
    params = {
        "response_type": "code",
        "client_id": "app-1",
        "redirect_uri": REDIRECT,
        "prompt": "confirm",
    }
    r = s.get(f"{app.base_url}/auth/oauth/authorize", params=params, timeout=10)
    ticket = r.text.split('name=ticket value="')[1].split('"')[0]
    r = s.post(
        f"{app.base_url}/auth/oauth/authorize",
        data={"ticket": ticket, "login": "anna", "password": "pass-anna"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 200
    assert "Jesteś zalogowany jako <b>anna</b>" in r.text
    r = s.post(
        f"{app.base_url}/auth/oauth/authorize",
        data={"ticket": ticket, "action": "confirm"},
        allow_redirects=False,
        timeout=10,
    )
    assert r.status_code == 302 and "code=" in r.headers["Location"]
    # logged-in session: confirm screen again with prompt=confirm, straight redirect without
    r = s.get(f"{app.base_url}/auth/oauth/authorize", params=params, timeout=10)
    assert "Jesteś zalogowany jako <b>anna</b>" in r.text
    del params["prompt"]
    r = s.get(
        f"{app.base_url}/auth/oauth/authorize", params=params, allow_redirects=False, timeout=10
    )
    assert r.status_code == 302 and r.headers["Location"].startswith(REDIRECT + "?code=")


def test_code_is_single_use_and_valid_ten_seconds(app: SandboxControl) -> None:
    code = app.issue_code("app-1", "anna", REDIRECT)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    assert token_post(app, data).status_code == 200
    r = token_post(app, data)
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": f"Invalid authorization code: {code}",
    }
    code = app.issue_code("app-1", "anna", REDIRECT)
    app.advance_clock(11)
    r = token_post(app, dict(data, code=code))
    assert r.status_code == 400
    assert r.json()["error_description"] == f"Invalid authorization code: {code}"
    code = app.issue_code("app-1", "anna", REDIRECT)
    app.advance_clock(9)
    assert token_post(app, dict(data, code=code)).status_code == 200


def test_token_endpoint_errors(app: SandboxControl) -> None:
    code = app.issue_code("app-1", "anna", REDIRECT)
    r = token_post(
        app,
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=("app-1", "wrong"),
    )
    assert (r.status_code, r.json()) == (
        400,
        {"error": "invalid_request", "error_description": "Unauthorized"},
    )
    assert r.headers["Cache-Control"] == "no-store" and r.headers["Pragma"] == "no-cache"
    r = token_post(app, {"grant_type": "authorization_code", "cod": code, "redirect_uri": REDIRECT})
    assert r.json() == {
        "error": "invalid_request",
        "error_description": "An authorization code must be supplied.",
    }
    r = token_post(
        app, {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT + "x"}
    )
    assert r.json() == {"error": "invalid_grant", "error_description": "Redirect URI mismatch."}


def test_params_in_query_string_work(app: SandboxControl) -> None:
    code = app.issue_code("app-1", "anna", REDIRECT)
    r = token_post(
        app, {}, params={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert r.status_code == 200
    assert set(r.json()) == {
        "access_token",
        "token_type",
        "refresh_token",
        "expires_in",
        "scope",
        "allegro_api",
        "jti",
    }


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_pkce_without_secret(app: SandboxControl, method: str) -> None:
    challenge = s256(VERIFIER) if method == "S256" else VERIFIER
    location = app.authorize(
        "app-1",
        REDIRECT,
        "anna",
        "pass-anna",
        code_challenge=challenge,
        code_challenge_method=method,
    )
    code = app.code_from(location)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": "app-1",
        "code_verifier": VERIFIER,
    }
    r = token_post(app, data, auth=None)
    assert r.status_code == 200
    assert r.json()["refresh_token"]
    # wrong verifier
    code = app.issue_code(
        "app-1", "anna", REDIRECT, code_challenge=challenge, code_challenge_method=method
    )
    r = token_post(app, dict(data, code=code, code_verifier=VERIFIER + "x"), auth=None)
    assert r.json() == {"error": "invalid_grant", "error_description": "Invalid code verifier"}


def test_pkce_only_client_needs_a_challenge(app: SandboxControl) -> None:
    code = app.issue_code("app-1", "anna", REDIRECT)
    r = token_post(
        app,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": "app-1",
            "code_verifier": VERIFIER,
        },
        auth=None,
    )
    assert (r.status_code, r.json()["error"]) == (400, "invalid_request")


def test_token_shape_and_jwt_claims(app: SandboxControl) -> None:
    tokens = app.connect_seller(
        "anna",
        "app-1",
        "secret-1",
        REDIRECT,
        scope="allegro:api:orders:read allegro:api:profile:read",
    )
    assert tokens["expires_in"] == 43199
    assert tokens["allegro_api"] is True
    assert tokens["scope"] == "allegro:api:profile:read allegro:api:orders:read"
    header, claims = jwt_claims(tokens["access_token"])
    assert header == {"alg": "RS256", "typ": "JWT"}
    assert claims["user_name"] == "50000001"
    assert claims["client_id"] == "app-1"
    assert claims["scope"] == ["allegro:api:profile:read", "allegro:api:orders:read"]
    assert claims["iss"] == "https://allegro.pl.allegrosandbox.pl"
    assert claims["jti"] == tokens["jti"]
    _, rclaims = jwt_claims(tokens["refresh_token"])
    assert rclaims["ati"] == tokens["jti"]
    public_key = app.call("GET", "/public-key")
    verified = jwt.decode(
        tokens["access_token"], public_key, algorithms=["RS256"], options={"verify_exp": False}
    )
    assert verified["user_name"] == "50000001"
    me = Api(app.base_url, tokens["access_token"]).get("/me")
    assert me.status_code == 200
    assert me.json()["id"] == "50000001" and me.json()["login"] == "anna"


def test_refresh_rotation_with_grace(app: SandboxControl) -> None:
    first = app.connect_seller("anna", "app-1", "secret-1", REDIRECT)
    data = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    r1 = token_post(app, data)
    assert r1.status_code == 200
    second = r1.json()
    assert second["refresh_token"] != first["refresh_token"]
    # the access token that came with the used refresh token is dead; the new one works
    old = Api(app.base_url, first["access_token"]).get("/me")
    assert old.status_code == 401 and old.json()["error"] == "invalid_token"
    assert Api(app.base_url, second["access_token"]).get("/me").status_code == 200
    app.advance_clock(59)
    assert token_post(app, data).status_code == 200  # grace: still accepted
    app.advance_clock(2)
    r = token_post(app, data)
    assert r.status_code == 400
    assert r.json() == {
        "error": "invalid_grant",
        "error_description": f"Invalid refresh token: {first['refresh_token']}",
    }
    # the newest refresh token still works
    assert (
        token_post(
            app, {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]}
        ).status_code
        == 200
    )
    calls = app.token_calls("app-1")
    assert calls["calls"] == {"authorization_code": 1, "refresh_token": 4}
    assert calls["ok"] == {"authorization_code": 1, "refresh_token": 3}


def test_access_ttl_and_grace_configurable_per_client(app: SandboxControl) -> None:
    app.update_client_app("app-1", access_token_ttl=5, refresh_grace_seconds=0)
    tokens = app.connect_seller("anna", "app-1", "secret-1", REDIRECT)
    assert tokens["expires_in"] == 5
    api = Api(app.base_url, tokens["access_token"])
    assert api.get("/me").status_code == 200
    app.advance_clock(6)
    r = api.get("/me")
    assert r.status_code == 401
    assert r.json() == {
        "error": "invalid_token",
        "error_description": f"Access token expired: {tokens['access_token']}",
    }
    data = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    assert token_post(app, data).status_code == 200
    app.advance_clock(1)
    assert token_post(app, data).json()["error"] == "invalid_grant"


def test_refresh_token_expires_after_three_months(app: SandboxControl) -> None:
    tokens = app.connect_seller("anna", "app-1", "secret-1", REDIRECT)
    app.advance_clock(90 * 86400 + 1)
    r = token_post(app, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.json()["error"] == "invalid_grant"


def test_client_credentials_token(app: SandboxControl) -> None:
    r = token_post(app, {"grant_type": "client_credentials"})
    assert r.status_code == 200
    body = r.json()
    assert "refresh_token" not in body
    _, claims = jwt_claims(body["access_token"])
    assert "user_name" not in claims and claims["client_id"] == "app-1"
    api = Api(app.base_url, body["access_token"])
    carriers = api.get("/order/carriers")
    assert carriers.status_code == 200
    r = api.get("/order/events")
    assert r.status_code == 403
    assert one_error(r)["code"] == "EMPTY_USER_ID"
    assert one_error(r)["message"] == "User name from JWT cannot be empty"
    r = api.get("/sale/offers")
    assert (r.status_code, one_error(r)["code"]) == (403, "UserRepresentativeException")
    r = api.get("/me")
    assert r.status_code == 500


def test_device_flow(app: SandboxControl) -> None:
    url = f"{app.base_url}/auth/oauth/device"
    r = requests.post(url, params={"client_id": "app-1"}, auth=("app-1", "secret-1"), timeout=10)
    assert r.status_code == 200
    dev = r.json()
    assert dev["expires_in"] == "3600" and dev["interval"] == "5"
    assert dev["verification_uri"] == f"{app.base_url}/skojarz-aplikacje"
    assert dev["verification_uri_complete"].endswith(f"?code={dev['user_code']}")
    grant = {
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
        "device_code": dev["device_code"],
    }
    assert token_post(app, grant).json() == {"error": "authorization_pending"}
    assert token_post(app, grant).json() == {"error": "slow_down"}
    page = requests.post(
        f"{app.base_url}/skojarz-aplikacje",
        data={
            "code": dev["user_code"],
            "login": "anna",
            "password": "pass-anna",
            "action": "approve",
        },
        timeout=10,
    )
    assert page.status_code == 200 and "powiązana" in page.text
    app.advance_clock(5)
    r = token_post(app, grant)
    assert r.status_code == 200
    assert jwt_claims(r.json()["access_token"])[1]["user_name"] == "50000001"
    assert token_post(app, grant).json() == {"error": "Invalid device code"}
    # the user refuses
    dev = requests.post(
        url, params={"client_id": "app-1"}, auth=("app-1", "secret-1"), timeout=10
    ).json()
    requests.post(
        f"{app.base_url}/skojarz-aplikacje",
        data={"code": dev["user_code"], "login": "anna", "password": "pass-anna", "action": "deny"},
        timeout=10,
    )
    r = token_post(app, dict(grant, device_code=dev["device_code"]))
    assert r.json() == {"error": "access_denied"}


def test_device_grant_must_be_enabled(app: SandboxControl) -> None:
    app.create_client_app(
        "web-only", "s", [REDIRECT], grant_types=["authorization_code", "refresh_token"]
    )
    r = requests.post(
        f"{app.base_url}/auth/oauth/device",
        params={"client_id": "web-only"},
        auth=("web-only", "s"),
        timeout=10,
    )
    assert r.json() == {
        "error": "unauthorized_client",
        "error_description": "Client does not have the device_code grant.",
    }


def test_password_change_revokes_tokens(app: SandboxControl) -> None:
    tokens = app.connect_seller("anna", "app-1", "secret-1", REDIRECT)
    api = Api(app.base_url, tokens["access_token"])
    assert api.get("/me").status_code == 200
    app.update_seller("anna", password="new-pass")
    r = api.get("/me")
    assert r.status_code == 401 and r.json()["error"] == "invalid_token"
    r = token_post(app, {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    assert r.json()["error"] == "invalid_grant"
    tokens = app.connect_seller("anna", "app-1", "secret-1", REDIRECT)
    assert app.revoke_tokens("anna") == 2
    assert Api(app.base_url, tokens["access_token"]).get("/me").status_code == 401


def test_unauthenticated_bodies(connected: Connected) -> None:
    r = connected.api_for(None).get("/order/events")
    assert r.status_code == 401
    assert r.json() == {
        "error": "unauthorized",
        "error_description": "Full authentication is required to access this resource",
    }
    r = connected.api_for("garbage").get("/order/events")
    assert r.json() == {
        "error": "invalid_token",
        "error_description": "Cannot convert access token to JSON",
    }


def test_scope_is_checked(connected: Connected) -> None:
    sb = connected.sandbox
    tokens = sb.connect_seller(
        "anna", "app-1", "secret-1", REDIRECT, scope="allegro:api:orders:read"
    )
    api = connected.api_for(tokens["access_token"])
    assert api.get("/order/events").status_code == 200
    r = api.get("/sale/offers")
    assert r.status_code == 403
    assert 'error="insufficient_scope"' in r.headers["WWW-Authenticate"]
    assert one_error(r)["code"] == "AccessDenied"
    assert api.get("/me").status_code == 403
    # a client app declaring fewer scopes caps what a token can get
    sb.create_client_app("narrow", "s", [REDIRECT], scopes=["allegro:api:orders:read"])
    t = sb.connect_seller(
        "anna", "narrow", "s", REDIRECT, scope="allegro:api:orders:read allegro:api:orders:write"
    )
    assert t["scope"] == "allegro:api:orders:read"
