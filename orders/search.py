"""The text the order list searches: one normalised column per order (`Order.search_text`).

`fold()` is the one definition of "the same text" for search: Unicode-normalised, invisible
characters removed, diacritics dropped ("Wójcik" → "wojcik"; ł, đ, ø and the like, which Unicode
does not decompose, mapped by hand), case-folded. The column and every query go through it, so
the search behaves the same on PostgreSQL (trigram index over (tenant, search_text)) and on
SQLite (the embedded development database), without depending on a database's unaccent rules.

What the column holds (`order_search_text`): number, Allegro id, buyer login, e-mail, names and
company, delivery and invoice names, cities, phone numbers (also as bare digits), the lines'
offer names and SKUs, and the tracking numbers of the order's shipments. It is written by
orders.ingest on every upsert and by `add_tracking_number` when a shipment is added.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Concat

from orders.models import Order

_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")
# Letters with a stroke or ligatures: no combining mark to drop, so mapped explicitly.
_LETTERS = str.maketrans(
    {
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "ø": "o",
        "Ø": "O",
        "ħ": "h",
        "Ħ": "H",
        "ı": "i",
        "ŧ": "t",
        "Ŧ": "T",
        "æ": "ae",
        "Æ": "AE",
        "œ": "oe",
        "Œ": "OE",
        "þ": "th",
        "Þ": "TH",
    }
)
_DIGITS = re.compile(r"\d+")
_PHONE_LIKE = re.compile(r"[\d\s+()./-]+")
MIN_CONTAINS = 3  # a trigram index needs three characters


def fold(text: str) -> str:
    """`text` as search compares it: no diacritics, no case, single spaces."""
    text = _INVISIBLE.sub("", text).translate(_LETTERS)
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(unicodedata.normalize("NFKC", bare).casefold().split())


def _digits(text: str) -> str:
    return "".join(_DIGITS.findall(text))


def _address_parts(address: Any) -> list[str]:
    if not isinstance(address, dict):
        return []
    return [
        str(address.get(key) or "")
        for key in ("first_name", "last_name", "company_name", "city", "phone_number")
    ]


def order_search_text(order: Any, lines: Iterable[tuple[str, str]]) -> str:
    """The search column of `order` (an Order, or anything with its attributes) whose lines are
    `(offer name, SKU)` pairs."""
    parts = [
        order.number,
        order.external_id,
        order.buyer_login,
        order.buyer_email,
        order.buyer_first_name,
        order.buyer_last_name,
        order.buyer_company,
        order.buyer_phone,
        *_address_parts(order.delivery_address),
        *_address_parts(order.buyer_address),
        *_address_parts(order.invoice_address),
        order.invoice_company_name,
    ]
    for name, sku in lines:
        parts += [name, sku]
    # Phone numbers also as bare digits: "500 100 200" and "+48500100200" both find them.
    phones = [order.buyer_phone, (order.delivery_address or {}).get("phone_number") or ""]
    parts += [_digits(p) for p in phones if isinstance(p, str)]
    # Last, as add_tracking_number appends them.
    parts += order.tracking_numbers.split()
    seen: dict[str, None] = {}
    for part in parts:
        folded = fold(part) if isinstance(part, str) else ""
        if folded:
            seen.setdefault(folded)
    return " ".join(seen)


def search_condition(text: str) -> Q:
    """Every word of `text` (three characters or more) somewhere in the search column; a phone
    number typed with spaces or dashes as its digits. A query without such a word is matched
    exactly against number, login and Allegro id."""
    raw = text.strip()
    key = fold(raw)
    if _PHONE_LIKE.fullmatch(key) and len(_digits(key)) >= MIN_CONTAINS:
        return Q(search_text__contains=key) | Q(search_text__contains=_digits(key))
    words = [w for w in key.split() if len(w) >= MIN_CONTAINS]
    if not words:
        return Q(number=raw.upper()) | Q(buyer_login=raw) | Q(external_id=raw)
    condition = Q()
    for word in words:
        condition &= Q(search_text__contains=word)
    return condition


def add_tracking_number(order: Order, waybill: str) -> None:
    """Make a shipment's tracking number findable: called by whoever adds a shipment, in the
    same transaction, with the order's row locked."""
    folded = fold(waybill)
    if not folded or folded in order.tracking_numbers.split():
        return
    order.tracking_numbers = " ".join(filter(None, [order.tracking_numbers, folded]))
    Order.objects.filter(tenant_id=order.tenant_id, pk=order.pk).update(
        tracking_numbers=order.tracking_numbers,
        search_text=Concat(F("search_text"), Value(" " + folded)),
    )
