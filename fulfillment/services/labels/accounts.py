"""Courier accounts of Wysyłam z Allegro (Administracja → Kurierzy): the only writer of
``CourierAccount``."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from channels.models import SalesChannel
from core.models import Tenant
from fulfillment.models import CourierAccount, LabelBatch, LabelJob
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.queries import accounts_changed

# ISO 13616 lengths of the countries Allegro sellers bank in (others: 15 to 34 characters).
IBAN_LENGTHS = {"PL": 28, "CZ": 24, "SK": 24, "DE": 22, "HU": 28, "LT": 20, "GB": 22}
EDITABLE = [
    "channel",
    "name",
    "sender_name",
    "sender_company",
    "street",
    "postal_code",
    "city",
    "country_code",
    "email",
    "phone",
    "drop_off_point",
    "package_type",
    "length_cm",
    "width_cm",
    "height_cm",
    "weight_kg",
    "label_format",
    "page_size",
    "cod_owner",
    "cod_iban",
    "insure_order_value",
    "status_after_label",
]


def normalize_iban(value: str) -> str:
    """The IBAN as Allegro takes it: no spaces, upper case; a Polish 26-digit account number
    gets its PL prefix."""
    text = re.sub(r"[\s-]", "", value or "").upper()
    if re.fullmatch(r"\d{26}", text):
        text = "PL" + text
    return text


def iban_problem(iban: str) -> str | None:
    """Why the IBAN is not one (None: it is valid), checked by its ISO 7064 checksum."""
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{11,30}", iban):
        return _("Enter the account number as an IBAN, e.g. PL61 1090 1014 0000 0712 1981 2874.")
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return _("An IBAN of this country has %(n)d characters.") % {"n": expected}
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    if int(digits) % 97 != 1:
        return _("This account number has a typo: its check digits do not match.")
    return None


def save_courier_account(
    tenant: Tenant, data: dict[str, Any], account: CourierAccount | None = None
) -> CourierAccount:
    """Create or change a courier account. Raises LabelError(message, field)."""
    channel = data["channel"]
    if not isinstance(channel, SalesChannel) or channel.tenant_id != tenant.pk:
        raise LabelError(_("Choose an Allegro account of this company."), "channel")
    if not (data.get("sender_name") or data.get("sender_company")):
        raise LabelError(_("Enter the sender's name or company."), "sender_name")
    iban = normalize_iban(data.get("cod_iban") or "")
    if iban:
        problem = iban_problem(iban)
        if problem:
            raise LabelError(problem, "cod_iban")
        if not data.get("cod_owner"):
            raise LabelError(_("Enter the account holder's name."), "cod_owner")
    data = {**data, "cod_iban": iban, "country_code": (data.get("country_code") or "PL").upper()}
    status = data.get("status_after_label")
    if status is not None and status.tenant_id != tenant.pk:
        raise LabelError(_("Choose a status of this company."), "status_after_label")
    target = account or CourierAccount(tenant=tenant)
    for name in EDITABLE:
        if name in data:
            setattr(target, name, data[name])
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise LabelError(_("A courier account with this name already exists."), "name") from None
    transaction.on_commit(partial(accounts_changed, tenant.pk))
    return target


def delete_courier_account(account: CourierAccount) -> bool:
    """Delete an account no label was made with (False: it has labels and stays)."""

    used = LabelJob.objects.filter(tenant_id=account.tenant_id, courier_account=account).exists()
    if (
        used
        or LabelBatch.objects.filter(tenant_id=account.tenant_id, courier_account=account).exists()
    ):
        return False
    account.delete()
    transaction.on_commit(partial(accounts_changed, account.tenant_id))
    return True
