"""Re-encrypt every EncryptedTextField value under the primary (first) key of APILO_FERNET_KEYS.

Key rotation: put the new key first in APILO_FERNET_KEYS (keep the old ones after it), deploy,
run this command, then remove the old keys. Safe to run while the application is running: each
batch of rows is locked (ordered by pk) and re-read, so a token refreshed meanwhile is never
overwritten with its older value. Idempotent: values already under the primary key are skipped.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast
from django_scopes import scopes_disabled

from core.fields import (
    PREFIX,
    DecryptionError,
    EncryptedTextField,
    decrypt,
    encrypted_fields,
    get_keyring,
    needs_reencryption,
)

BATCH = 500


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the newest (primary) Fernet key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Only count the values that would change."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        primary = get_keyring().primary_id
        total = 0
        with scopes_disabled():
            for model, field in encrypted_fields():
                changed = self._reencrypt(model, field, dry_run=options["dry_run"])
                total += changed
                self.stdout.write(
                    f"{model._meta.label}.{field.name}: {changed} value(s) "
                    f"{'to re-encrypt' if options['dry_run'] else 're-encrypted'}"
                )
        verb = "would be re-encrypted" if options["dry_run"] else "re-encrypted"
        self.stdout.write(self.style.SUCCESS(f"{total} value(s) {verb} under key {primary!r}."))

    def _reencrypt(
        self, model: type[models.Model], field: EncryptedTextField, *, dry_run: bool
    ) -> int:
        manager = model._base_manager
        raw = f"_raw_{field.attname}"
        changed = 0
        last_pk: Any = None
        while True:
            with transaction.atomic():
                qs = manager.order_by("pk")
                if last_pk is not None:
                    qs = qs.filter(pk__gt=last_pk)
                pks = list(qs.values_list("pk", flat=True)[:BATCH])
                if not pks:
                    return changed
                last_pk = pks[-1]
                # Lock the batch, then read the raw ciphertext (no decryption by the field).
                locked = (
                    manager.filter(pk__in=pks)
                    .order_by("pk")
                    .select_for_update(of=("self",))
                    .annotate(**{raw: Cast(field.attname, output_field=models.TextField())})
                    .values_list("pk", raw)
                )
                for pk, stored in locked:
                    if not needs_reencryption(stored):
                        continue
                    changed += 1
                    if dry_run:
                        continue
                    if stored.startswith(PREFIX):
                        try:
                            plaintext = decrypt(stored)
                        except DecryptionError as exc:
                            raise CommandError(
                                f"{model._meta.label} #{pk} {field.name}: {exc} "
                                "(is an old key missing from APILO_FERNET_KEYS?)"
                            ) from None
                    else:
                        plaintext = stored  # written before encryption existed
                    # update() runs get_prep_value: encrypted under the primary key.
                    manager.filter(pk=pk).update(**{field.attname: plaintext})
