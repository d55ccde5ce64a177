"""Encrypted model fields: secrets at rest (OAuth tokens, SMTP passwords).

A value is stored as ``enc:fernet:<key_id>:<fernet token>``. The keys come from the environment,
``APILO_FERNET_KEYS="kid1:<urlsafe-base64 32-byte key>,kid2:…"``: the first key encrypts every
write, all keys decrypt, so a key is rotated by putting a new one first, running
``manage.py reencrypt_secrets`` and then dropping the old one.

In DEBUG without configured keys a development key is derived from SECRET_KEY (and a warning is
logged); outside DEBUG a missing key is ImproperlyConfigured at first use. Encrypted columns
cannot be filtered or ordered on (only ``isnull``): the ciphertext is randomised, so such a
query could never match anyway.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models import Lookup
from django.dispatch import receiver

logger = logging.getLogger(__name__)

PREFIX = "enc:fernet:"
_KEY_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")
DEV_KEY_ID = "dev"


class DecryptionError(Exception):
    """A stored value could not be decrypted (unknown key id, tampered or not encrypted)."""


@dataclass(frozen=True)
class Keyring:
    primary_id: str
    keys: dict[str, Fernet]

    def encrypt(self, plaintext: str) -> str:
        token = self.keys[self.primary_id].encrypt(plaintext.encode("utf-8")).decode("ascii")
        return f"{PREFIX}{self.primary_id}:{token}"

    def decrypt(self, stored: str) -> str:
        key_id, token = split_stored(stored)
        fernet = self.keys.get(key_id)
        if fernet is None:
            raise DecryptionError(f"No Fernet key with id {key_id!r} is configured.")
        try:
            return fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise DecryptionError(f"A value encrypted under key {key_id!r} is invalid.") from None


def split_stored(stored: str) -> tuple[str, str]:
    """(key id, Fernet token) of a stored value; DecryptionError if it is not one of ours."""
    if not stored.startswith(PREFIX):
        raise DecryptionError("The stored value is not encrypted.")
    key_id, sep, token = stored[len(PREFIX) :].partition(":")
    if not sep or not key_id or not token:
        raise DecryptionError("The stored value is malformed.")
    return key_id, token


def parse_keys(spec: str | list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """Parse ``kid1:key1,kid2:key2`` (or a list of ``kid:key``) into ordered pairs."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    pairs: list[tuple[str, str]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        key_id, sep, key = item.partition(":")
        key_id, key = key_id.strip(), key.strip()
        if not sep or not key or not _KEY_ID.fullmatch(key_id):
            raise ImproperlyConfigured(
                "APILO_FERNET_KEYS must look like 'kid1:<key>,kid2:<key>' "
                "(key ids of letters, digits, '-' and '_')."
            )
        pairs.append((key_id, key))
    ids = [kid for kid, _ in pairs]
    if len(set(ids)) != len(ids):
        raise ImproperlyConfigured("APILO_FERNET_KEYS has the same key id twice.")
    return pairs


def _build_keyring() -> Keyring:
    spec = getattr(settings, "APILO_FERNET_KEYS", "") or ""
    pairs = parse_keys(spec)
    if not pairs:
        if not settings.DEBUG:
            raise ImproperlyConfigured(
                "APILO_FERNET_KEYS is not set: secrets at rest cannot be encrypted. Generate a key "
                "with `python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'` and set APILO_FERNET_KEYS=k1:<key>."
            )
        digest = hashlib.sha256(b"apilo-development-fernet-key:" + settings.SECRET_KEY.encode())
        pairs = [(DEV_KEY_ID, base64.urlsafe_b64encode(digest.digest()).decode("ascii"))]
        logger.warning(
            "APILO_FERNET_KEYS is not set: using a key derived from SECRET_KEY. "
            "This is for development only (DEBUG); never run production like this."
        )
    keys: dict[str, Fernet] = {}
    for key_id, key in pairs:
        try:
            keys[key_id] = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError):
            raise ImproperlyConfigured(
                f"Fernet key {key_id!r} in APILO_FERNET_KEYS is not a url-safe base64 32-byte key."
            ) from None
    return Keyring(primary_id=pairs[0][0], keys=keys)


_keyring: Keyring | None = None
_keyring_lock = threading.Lock()


def get_keyring() -> Keyring:
    global _keyring
    ring = _keyring
    if ring is None:
        with _keyring_lock:
            if _keyring is None:
                _keyring = _build_keyring()
            ring = _keyring
    return ring


@receiver(setting_changed)
def _reset_keyring(*, setting: str, **kwargs: Any) -> None:
    global _keyring
    if setting in {"APILO_FERNET_KEYS", "DEBUG", "SECRET_KEY"}:
        with _keyring_lock:
            _keyring = None


def encrypt(plaintext: str) -> str:
    return get_keyring().encrypt(plaintext)


def decrypt(stored: str) -> str:
    return get_keyring().decrypt(stored)


def needs_reencryption(stored: str | None) -> bool:
    """True if a stored value is not encrypted under the primary key (or not encrypted)."""
    if not stored:
        return False
    try:
        key_id, _ = split_stored(stored)
    except DecryptionError:
        return True
    return key_id != get_keyring().primary_id


class EncryptedTextField(models.TextField):
    """A TextField whose value is Fernet-encrypted in the database, transparently.

    Python code sees plain text; the column holds ``enc:fernet:<key_id>:<token>``. Empty strings
    and None are stored as they are (they carry no secret).
    """

    description = "Text encrypted at rest with Fernet"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        if isinstance(value, str) and value.startswith(PREFIX):
            # Already ciphertext (e.g. copied raw between rows): never encrypt twice.
            split_stored(value)
            return value
        return encrypt(str(value))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(PREFIX):
            return decrypt(value)
        return super().to_python(value)

    def get_lookup(self, lookup_name: str) -> type[Lookup] | None:
        if lookup_name != "isnull":
            return None
        return super().get_lookup(lookup_name)

    def get_transform(self, name: str) -> Any:
        return None


def encrypted_fields() -> list[tuple[type[models.Model], EncryptedTextField]]:
    """Every concrete model field of type EncryptedTextField in the project."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        if model._meta.abstract or model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, EncryptedTextField):
                found.append((model, field))
    return found
