"""/account/additional-emails: the sender addresses of a seller's account, as Allegro answers
them (every answer validated against the spec by tests.sandbox.helpers.Api)."""

from __future__ import annotations

from tests.sandbox.helpers import REDIRECT, Connected, one_error

EMAILS = "/account/additional-emails"


def test_add_list_get_and_delete(connected: Connected) -> None:
    api = connected.api
    assert api.get(EMAILS).json() == {"additional-emails": []}
    added = api.post(EMAILS, json={"email": "sklep@alfa.example"})
    assert added.status_code == 201
    entry = added.json()
    assert entry["email"] == "sklep@alfa.example"
    assert len(entry["id"]) == 36 and entry["createdAt"].endswith("Z")
    assert api.get(EMAILS).json() == {"additional-emails": [entry]}
    assert api.get(f"{EMAILS}/{entry['id']}").json() == entry
    deleted = api.request("DELETE", f"{EMAILS}/{entry['id']}")
    assert deleted.status_code == 204
    assert api.get(EMAILS).json() == {"additional-emails": []}
    gone = api.get(f"{EMAILS}/{entry['id']}")
    assert gone.status_code == 404
    assert one_error(gone)["code"] == "NOT_FOUND"
    assert api.request("DELETE", f"{EMAILS}/{entry['id']}").status_code == 404


def test_invalid_or_repeated_address_is_refused(connected: Connected) -> None:
    api = connected.api
    assert api.post(EMAILS, json={}).status_code == 400
    for bad in ("no-at-sign", "a" * 65 + "@example.com", "x@nodot"):
        refused = api.post(EMAILS, json={"email": bad})
        assert refused.status_code == 422, bad
        assert one_error(refused)["code"] == "VALIDATION_ERROR"
    assert api.post(EMAILS, json={"email": "sklep@alfa.example"}).status_code == 201
    again = api.post(EMAILS, json={"email": "SKLEP@alfa.example"})
    assert again.status_code == 422
    assert api.get(EMAILS).json()["additional-emails"][0]["email"] == "sklep@alfa.example"


def test_each_seller_sees_only_own_addresses(connected: Connected) -> None:
    sb = connected.sandbox
    connected.api.post(EMAILS, json={"email": "sklep@alfa.example"})
    sb.create_seller("bartek", "pass-bartek", id="50000002")
    tokens = sb.connect_seller("bartek", "app-1", "secret-1", REDIRECT)
    other = connected.api_for(tokens["access_token"])
    assert other.get(EMAILS).json() == {"additional-emails": []}


def test_scopes_profile_read_and_write_are_needed(connected: Connected) -> None:
    sb = connected.sandbox
    tokens = sb.connect_seller(
        "anna", "app-1", "secret-1", REDIRECT, scope="allegro:api:orders:read"
    )
    narrow = connected.api_for(tokens["access_token"])
    assert narrow.get(EMAILS).status_code == 403
    assert narrow.post(EMAILS, json={"email": "sklep@alfa.example"}).status_code == 403
    read_only = connected.api_for(
        sb.connect_seller("anna", "app-1", "secret-1", REDIRECT, scope="allegro:api:profile:read")[
            "access_token"
        ]
    )
    assert read_only.get(EMAILS).status_code == 200
    refused = read_only.post(EMAILS, json={"email": "sklep@alfa.example"})
    assert refused.status_code == 403
    assert one_error(refused)["code"] == "AccessDenied"
