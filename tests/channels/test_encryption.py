"""EncryptedTextField: Fernet at rest with key ids, rotation and the re-encryption command."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.utils import timezone
from django_scopes import scope

from channels.models import AllegroCredential
from core.fields import DecryptionError, decrypt, encrypt
from tests.channels.helpers import CHANNEL, TEST_FERNET_KEY
from tests.support.channels import make_channel

pytestmark = pytest.mark.django_db

NEW_KEY = Fernet.generate_key().decode()


def raw(cred: AllegroCredential) -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM channels_allegrocredential WHERE id = %s",
            [cred.pk],
        )
        return cursor.fetchone()


def credential(tenant, access: str = "acc-PLAIN-1", refresh: str = "ref-PLAIN-1"):
    channel = make_channel(tenant, CHANNEL)
    now = timezone.now()
    with scope(tenant=tenant):
        return AllegroCredential.objects.create(
            tenant=tenant,
            channel=channel,
            access_token=access,
            refresh_token=refresh,
            access_issued_at=now,
            access_expires_at=now + timedelta(hours=12),
        )


def test_values_are_encrypted_under_the_primary_key_and_read_back(tenant, settings):
    cred = credential(tenant)
    raw_access, raw_refresh = raw(cred)
    assert raw_access.startswith("enc:fernet:t1:")
    assert "acc-PLAIN-1" not in raw_access and "ref-PLAIN-1" not in raw_refresh
    assert Fernet(TEST_FERNET_KEY).decrypt(raw_access.split(":", 3)[3].encode()) == b"acc-PLAIN-1"
    with scope(tenant=tenant):
        fresh = AllegroCredential.objects.get(pk=cred.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("acc-PLAIN-1", "ref-PLAIN-1")


def test_encrypting_twice_gives_different_ciphertexts():
    assert encrypt("x") != encrypt("x")
    assert decrypt(encrypt("zażółć")) == "zażółć"


def test_encrypted_columns_cannot_be_filtered_on(tenant):
    credential(tenant)
    with scope(tenant=tenant), pytest.raises(FieldError):
        list(AllegroCredential.objects.filter(access_token="acc-PLAIN-1"))


def test_rotation_old_keys_still_read_and_the_command_reencrypts(tenant, settings):
    cred = credential(tenant)
    settings.APILO_FERNET_KEYS = f"t2:{NEW_KEY},t1:{TEST_FERNET_KEY}"
    with scope(tenant=tenant):
        assert AllegroCredential.objects.get(pk=cred.pk).access_token == "acc-PLAIN-1"
    out = StringIO()
    call_command("reencrypt_secrets", "--dry-run", stdout=out)
    assert "channels.AllegroCredential.access_token: 1 value(s) to re-encrypt" in out.getvalue()
    assert raw(cred)[0].startswith("enc:fernet:t1:")
    out = StringIO()
    call_command("reencrypt_secrets", stdout=out)
    assert "2 value(s) re-encrypted under key 't2'." in out.getvalue()
    raw_access, raw_refresh = raw(cred)
    assert raw_access.startswith("enc:fernet:t2:") and raw_refresh.startswith("enc:fernet:t2:")
    # The old key can now go.
    settings.APILO_FERNET_KEYS = f"t2:{NEW_KEY}"
    with scope(tenant=tenant):
        fresh = AllegroCredential.objects.get(pk=cred.pk)
    assert (fresh.access_token, fresh.refresh_token) == ("acc-PLAIN-1", "ref-PLAIN-1")
    out = StringIO()
    call_command("reencrypt_secrets", stdout=out)
    assert "0 value(s) re-encrypted under key 't2'." in out.getvalue()


def test_a_value_under_an_unknown_key_is_an_error_not_garbage(tenant, settings):
    cred = credential(tenant)
    settings.APILO_FERNET_KEYS = f"t2:{NEW_KEY}"
    with scope(tenant=tenant), pytest.raises(DecryptionError):
        AllegroCredential.objects.get(pk=cred.pk)


def test_missing_keys_outside_debug_are_improperly_configured(settings):
    settings.APILO_FERNET_KEYS = ""
    settings.DEBUG = False
    with pytest.raises(ImproperlyConfigured):
        encrypt("x")


def test_debug_without_keys_derives_a_development_key(settings, caplog):
    settings.APILO_FERNET_KEYS = ""
    settings.DEBUG = True
    value = encrypt("x")
    assert value.startswith("enc:fernet:dev:")
    assert decrypt(value) == "x"
    assert "development only" in caplog.text


@pytest.mark.parametrize("spec", ["nokey", "k1:", "k1:not-base64", f"k 1:{NEW_KEY}",
                                  f"k1:{NEW_KEY},k1:{NEW_KEY}"])  # fmt: skip
def test_malformed_keys_are_improperly_configured(settings, spec):
    settings.APILO_FERNET_KEYS = spec
    with pytest.raises(ImproperlyConfigured):
        encrypt("x")
