"""Authorizing a sales channel against allegro_sandbox the way a seller does, over HTTP:
Authorize in the back office → log in and confirm on the sandbox's page → the callback."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from django.test import Client
from django.urls import reverse
from django_scopes import scope

from channels.models import SalesChannel
from tests.sandbox_support import SandboxControl

# Where Allegro sends the seller back to: the test client's back office.
REDIRECT_URI = "http://testserver/channels/allegro/callback/"


@dataclass
class SandboxApp:
    """The `local` Allegro environment pointed at the sandbox, with our client app there."""

    sandbox: SandboxControl
    client_id: str
    client_secret: str
    redirect_uri: str

    def token_calls(self) -> dict[str, dict[str, int]]:
        return self.sandbox.token_calls(self.client_id)

    def worker_env(self, **extra: Any) -> dict[str, str]:
        """Environment of a Celery process that reaches this sandbox."""
        env = {
            "ALLEGRO_LOCAL_AUTH_URL": self.sandbox.base_url,
            "ALLEGRO_LOCAL_API_URL": self.sandbox.base_url,
            "ALLEGRO_LOCAL_CLIENT_ID": self.client_id,
            "ALLEGRO_LOCAL_CLIENT_SECRET": self.client_secret,
            "ALLEGRO_REDIRECT_URI": self.redirect_uri,
        }
        env.update({k: str(v) for k, v in extra.items()})
        return env


def register_sandbox_app(
    settings, sandbox: SandboxControl, *, client_id: str, redirect_uri: str, **app_options: Any
) -> SandboxApp:
    """Create our client app in the sandbox (random secret) and point the `local` environment
    at it (through pytest-django's `settings`, so it is undone after the test)."""
    secret = "sekret-" + secrets.token_urlsafe(16)
    sandbox.create_client_app(client_id, secret, [redirect_uri], name="apilo", **app_options)
    settings.ALLEGRO_ENVIRONMENTS = {
        "local": {
            "auth_url": sandbox.base_url,
            "api_url": sandbox.base_url,
            "client_id": client_id,
            "client_secret": secret,
        }
    }
    settings.ALLEGRO_REDIRECT_URI = redirect_uri
    return SandboxApp(sandbox, client_id, secret, redirect_uri)


def sandbox_login(authorize_url: str, login: str, password: str, action: str = "confirm") -> str:
    """Play the seller in a browser on the sandbox's authorize pages; returns where the sandbox
    redirects back to (the callback URL with code/error and state)."""
    browser = requests.Session()
    page = browser.get(authorize_url, allow_redirects=False, timeout=30)
    assert page.status_code == 200, page.text[:300]
    ticket = re.search(r'name=ticket value="([^"]+)"', page.text).group(1)
    form_url = _form_url(authorize_url)
    if action == "cancel":
        response = browser.post(
            form_url,
            data={"ticket": ticket, "action": "cancel"},
            allow_redirects=False,
            timeout=30,
        )
    else:
        response = browser.post(
            form_url,
            data={"ticket": ticket, "login": login, "password": password, "action": "login"},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code == 200 and "action value=confirm" in response.text:
            response = browser.post(
                form_url,
                data={"ticket": ticket, "action": "confirm"},
                allow_redirects=False,
                timeout=30,
            )
    assert response.status_code == 302, response.text[:300]
    return response.headers["Location"]


def _form_url(authorize_url: str) -> str:
    parts = urlsplit(authorize_url)
    return f"{parts.scheme}://{parts.netloc}/auth/oauth/authorize"


def start(client: Client, channel: SalesChannel) -> str:
    """Click Authorize; returns the Allegro authorize URL we were sent to."""
    response = client.post(
        reverse(
            "administration:channels:authorize",
            kwargs={"tenant_slug": channel.tenant.slug, "channel_id": channel.pk},
        )
    )
    assert response.status_code == 302, response.status_code
    return response["Location"]


def callback_path(redirect_location: str) -> str:
    """The path of our callback that the sandbox sent the browser back to."""
    parts = urlsplit(redirect_location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI
    return f"{parts.path}?{parts.query}"


def authorize(client: Client, channel: SalesChannel, password: str, login: str | None = None):
    """The whole flow in ``client``'s session: Authorize → sandbox login (as the channel's
    Allegro login, or ``login``) + confirm → callback. Returns the callback's response
    (followed)."""
    login = channel.allegro_login if login is None else login
    location = sandbox_login(start(client, channel), login, password)
    return client.get(callback_path(location), follow=True)


def connect(
    channel: SalesChannel, admin_user, password: str, login: str | None = None
) -> SalesChannel:
    """The whole flow for an administrator, signing in on the sandbox as the channel's Allegro
    login (or ``login``); returns the channel, connected."""
    client = Client()
    client.force_login(admin_user)
    login = channel.allegro_login if login is None else login
    back = urlsplit(sandbox_login(start(client, channel), login, password))
    client.get(f"{back.path}?{back.query}")
    with scope(tenant=channel.tenant):
        channel = SalesChannel.objects.select_related("tenant").get(pk=channel.pk)
    assert channel.is_connected, channel.connection_state
    return channel
