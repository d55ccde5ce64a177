"""Read an Allegro checkout form (GET /order/checkout-forms/{id}) defensively.

Pure functions, no database: `parse_checkout_form(form) -> ParsedForm`. Real forms carry nulls,
omit blocks the specification calls required (delivery, its address, invoice, phone numbers,
pickup-point ids), any Unicode and odd values. The parser never raises for such a form: it keeps
what it can read and adds a warning (a short English sentence naming the field) for everything it
could not. Only a form without an id, or not a JSON object at all, is refused (`FormRejected`),
because without the id there is nothing to key the order on. The warnings are stored in English,
as engineers read them; `warnings_in_words` shows them in the language of the page.

Strings are cleaned so PostgreSQL can store them (NUL removed, lone surrogates replaced) and cut
to the column length; `clean_json` does the same for the raw form kept on the order.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext, gettext_noop

from orders.models import AllegroStatus, FulfillmentStatus, PaymentStatus, PaymentType, TaxIdType

_SURROGATE = re.compile("[\ud800-\udfff]")
# Placeholders buyers type instead of a number: "---", "+", "brak", "+48 --- ---". The shortest
# subscriber numbers have 6 digits; anything with fewer is not a number anyone can call.
_DIGIT = re.compile(r"\d")
PHONE_MIN_DIGITS = 6
_MAX_AMOUNT = Decimal("9999999999.99")  # DecimalField(max_digits=12, decimal_places=2)
_CENT = Decimal("0.01")
MAX_QUANTITY = 1_000_000

# What the parser says about a form, in English as stored on the order (Order.parse_warnings);
# `warnings_in_words` reads a stored sentence back through these and translates it.
MISSING = gettext_noop("%(path)s is missing.")
NOT_AN_OBJECT = gettext_noop("%(path)s is not an object; ignored.")
NOT_A_LIST = gettext_noop("%(path)s is not a list; ignored.")
NOT_TEXT = gettext_noop("%(path)s is not text; ignored.")
TOO_LONG = gettext_noop("%(path)s is longer than %(limit)s characters; cut.")
NOT_A_FLAG = gettext_noop("%(path)s is not true/false; read as false.")
UNKNOWN_VALUE = gettext_noop("%(path)s has an unknown value “%(value)s”.")
NOT_A_NUMBER = gettext_noop("%(path)s is not a number; ignored.")
BAD_NUMBER = gettext_noop("%(path)s “%(value)s” is not a number; ignored.")
OUT_OF_RANGE = gettext_noop("%(path)s “%(value)s” is out of range; ignored.")
BAD_CURRENCY = gettext_noop("%(path)s “%(value)s” is not a currency code; ignored.")
NOT_A_DATE = gettext_noop("%(path)s is not a date; ignored.")
BAD_DATE = gettext_noop("%(path)s “%(value)s” is not a date; ignored.")
BAD_PHONE = gettext_noop("%(path)s “%(value)s” is not a phone number; ignored.")
NO_LINES = gettext_noop("lineItems is empty or missing: the order has no lines.")
LINE_NOT_AN_OBJECT = gettext_noop("%(path)s is not an object; skipped.")
LINE_WITHOUT_ID = gettext_noop("%(path)s.id is missing; the line is kept as “%(line)s”.")
LINE_TWICE = gettext_noop("%(path)s.id “%(line)s” appears twice; the repeat is skipped.")
NO_PRICE = gettext_noop("%(path)s.price has no usable amount; 0 is shown.")
BAD_QUANTITY = gettext_noop("%(path)s “%(value)s” is not a quantity; 1 is assumed.")
NO_TOTAL = gettext_noop("The total to pay is unknown; the sum of the lines (%(amount)s) is shown.")
ADDRESS_LACKS = gettext_noop("%(path)s lacks %(fields)s.")
NO_PHONE = gettext_noop("No phone number for the delivery (delivery.address.phoneNumber, buyer).")
WARNINGS = (
    MISSING, NOT_AN_OBJECT, NOT_A_LIST, NOT_TEXT, TOO_LONG, NOT_A_FLAG, UNKNOWN_VALUE,
    NOT_A_NUMBER, BAD_NUMBER, OUT_OF_RANGE, BAD_CURRENCY, NOT_A_DATE, BAD_DATE, BAD_PHONE,
    NO_LINES, LINE_NOT_AN_OBJECT, LINE_WITHOUT_ID, LINE_TWICE, NO_PRICE, BAD_QUANTITY, NO_TOTAL,
    ADDRESS_LACKS, NO_PHONE,
)  # fmt: skip
# The form is refused (FormRejected); the channel page shows these through the catalogue.
NOT_A_FORM = gettext_noop("The checkout form is not a JSON object.")
NO_FORM_ID = gettext_noop("The checkout form has no id.")


def _reading(template: str) -> re.Pattern[str]:
    """A regex that reads a stored warning of `template` back into its values."""
    parts = re.split(r"%\((\w+)\)s", template)
    pattern = "".join(
        f"(?P<{part}>.*?)" if index % 2 else re.escape(part) for index, part in enumerate(parts)
    )
    return re.compile(pattern, re.DOTALL)


# The templates with most fixed text first: "x “1,5” is not a number" is BAD_NUMBER, not
# NOT_A_NUMBER of a field called "x “1,5”".
_READINGS = [
    (template, _reading(template))
    for template in sorted(WARNINGS, key=lambda t: len(re.sub(r"%\(\w+\)s", "", t)), reverse=True)
]


def warning_in_words(warning: str) -> str:
    """A stored warning in the active language, its field names and values as they came."""
    for template, reading in _READINGS:
        match = reading.fullmatch(warning)
        if match:
            return gettext(template) % match.groupdict()
    return warning


def warnings_in_words(warnings: list[str] | None) -> list[str]:
    return [warning_in_words(str(warning)) for warning in warnings or []]


class FormRejected(ValueError):
    """The form cannot be imported at all (no id, not an object)."""


def clean_text(value: str) -> str:
    """Text PostgreSQL accepts: no NUL, no lone surrogates; everything else kept as it came."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def clean_json(value: Any) -> Any:
    """A copy of a JSON value whose strings (keys too) are all storable in JSONB."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(str(k)): clean_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [clean_json(v) for v in value]
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    return value


def form_hash(form: Any) -> str:
    """sha256 of the canonical JSON of a form: equal forms, equal hashes."""
    canonical = json.dumps(clean_json(form), sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class ParsedLine:
    external_id: str
    offer_id: str = ""
    offer_name: str = ""
    sku: str = ""
    quantity: int = 1
    price: Decimal = Decimal("0.00")
    original_price: Decimal | None = None
    currency: str = ""
    bought_at: dt.datetime | None = None
    position: int = 0


@dataclass
class ParsedForm:
    """Everything the order keeps from one checkout form. Field names are Order's columns."""

    external_id: str
    allegro_status: str | None = None  # None: missing or unknown (see warnings)
    fulfillment_status: str = ""
    revision: str = ""
    marketplace: str = ""
    buyer_id: str = ""
    buyer_login: str = ""
    buyer_email: str = ""
    buyer_first_name: str = ""
    buyer_last_name: str = ""
    buyer_company: str = ""
    buyer_phone: str = ""
    buyer_guest: bool = False
    buyer_language: str = ""
    buyer_address: dict = field(default_factory=dict)
    buyer_message: str = ""
    delivery_address: dict = field(default_factory=dict)
    delivery_method_id: str = ""
    delivery_method_name: str = ""
    delivery_cost: Decimal | None = None
    pickup_point_id: str = ""
    pickup_point_name: str = ""
    pickup_point_address: dict = field(default_factory=dict)
    invoice_required: bool = False
    invoice_address: dict = field(default_factory=dict)
    invoice_company_name: str = ""
    invoice_tax_id: str = ""
    # [{"type": "PL_NIP", "value": "5261040828"}, …] from company.ids[]; type "" for the
    # untyped company.taxId text, read only when a form has no ids[].
    invoice_tax_ids: list[dict[str, str]] = field(default_factory=list)
    payment_id: str = ""
    payment_type: str = ""
    payment_provider: str = ""
    payment_status: str = PaymentStatus.NONE
    paid_amount: Decimal | None = None
    total_to_pay: Decimal = Decimal("0.00")
    currency: str = ""
    bought_at: dt.datetime | None = None
    paid_at: dt.datetime | None = None
    allegro_updated_at: dt.datetime | None = None
    lines: list[ParsedLine] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    # Columns copied to Order as they are (allegro_status and bought_at need the ingest's say).
    COLUMNS = (
        "fulfillment_status",
        "revision",
        "marketplace",
        "buyer_id",
        "buyer_login",
        "buyer_email",
        "buyer_first_name",
        "buyer_last_name",
        "buyer_company",
        "buyer_phone",
        "buyer_guest",
        "buyer_language",
        "buyer_address",
        "buyer_message",
        "delivery_address",
        "delivery_method_id",
        "delivery_method_name",
        "delivery_cost",
        "pickup_point_id",
        "pickup_point_name",
        "pickup_point_address",
        "invoice_required",
        "invoice_address",
        "invoice_company_name",
        "invoice_tax_id",
        "invoice_tax_ids",
        "payment_id",
        "payment_type",
        "payment_provider",
        "payment_status",
        "paid_amount",
        "total_to_pay",
        "currency",
        "paid_at",
        "allegro_updated_at",
    )

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.COLUMNS}


class _Reader:
    """Reads values out of nested dicts, collecting a warning for everything odd."""

    def __init__(self) -> None:
        self.warnings: list[str] = []

    def warn(self, template: str, **values: Any) -> None:
        """Note a warning: one of WARNINGS with its values (stored in English)."""
        message = template % values if values else template
        if message not in self.warnings:
            self.warnings.append(message)

    def block(self, parent: dict, key: str, path: str, *, required: bool = False) -> dict:
        value = parent.get(key)
        if isinstance(value, dict):
            return value
        if value is None:
            if required:
                self.warn(MISSING, path=path)
        else:
            self.warn(NOT_AN_OBJECT, path=path)
        return {}

    def items(self, parent: dict, key: str, path: str) -> list:
        value = parent.get(key)
        if isinstance(value, list):
            return value
        if value is not None:
            self.warn(NOT_A_LIST, path=path)
        return []

    def text(
        self, parent: dict, key: str, path: str, max_length: int, *, required: bool = False
    ) -> str:
        value = parent.get(key)
        if value is None:
            if required:
                self.warn(MISSING, path=path)
            return ""
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.warn(NOT_TEXT, path=path)
            return ""
        text = clean_text(str(value)).strip()
        if len(text) > max_length:
            self.warn(TOO_LONG, path=path, limit=max_length)
            text = text[:max_length]
        return text

    def flag(self, parent: dict, key: str, path: str) -> bool:
        value = parent.get(key)
        if isinstance(value, bool):
            return value
        if value is not None:
            self.warn(NOT_A_FLAG, path=path)
        return False

    def enum(self, parent: dict, key: str, path: str, allowed: set[str]) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, str) and value in allowed:
            return value
        shown = clean_text(str(value))[:40]
        self.warn(UNKNOWN_VALUE, path=path, value=shown)
        return None

    def amount(self, money: dict, path: str) -> Decimal | None:
        value = money.get("amount")
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.warn(NOT_A_NUMBER, path=path)
            return None
        try:
            amount = Decimal(str(value).strip().replace(",", "."))
        except InvalidOperation:
            self.warn(BAD_NUMBER, path=path, value=clean_text(str(value))[:40])
            return None
        if not amount.is_finite() or abs(amount) > _MAX_AMOUNT:
            self.warn(OUT_OF_RANGE, path=path, value=clean_text(str(value))[:40])
            return None
        return amount.quantize(_CENT)

    def currency(self, money: dict, path: str) -> str:
        value = money.get("currency")
        if value is None:
            return ""
        if isinstance(value, str) and re.fullmatch(r"[A-Z]{3}", value.strip()):
            return value.strip()
        self.warn(BAD_CURRENCY, path=path, value=clean_text(str(value))[:10])
        return ""

    def moment(self, parent: dict, key: str, path: str) -> dt.datetime | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, str):
            self.warn(NOT_A_DATE, path=path)
            return None
        try:
            moment = dt.datetime.fromisoformat(value.strip())
        except ValueError:
            self.warn(BAD_DATE, path=path, value=clean_text(value)[:40])
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)  # Allegro's timestamps are UTC
        return moment

    def phone(self, parent: dict, key: str, path: str) -> str:
        """A phone number, or "" (with a warning) for a placeholder with (almost) no digits."""
        value = self.text(parent, key, path, 40)
        if value and len(_DIGIT.findall(value)) < PHONE_MIN_DIGITS:
            self.warn(BAD_PHONE, path=path, value=value[:20])
            return ""
        return value

    def address(self, block: dict, path: str, *, zip_key: str = "zipCode") -> dict[str, str]:
        fields = {
            "first_name": ("firstName", 100),
            "last_name": ("lastName", 100),
            "company_name": ("companyName", 200),
            "street": ("street", 200),
            "city": ("city", 100),
            "zip_code": (zip_key, 20),
            "country_code": ("countryCode", 8),
        }
        result = {}
        for name, (key, max_length) in fields.items():
            value = self.text(block, key, f"{path}.{key}", max_length)
            if value:
                result[name] = value
        phone = self.phone(block, "phoneNumber", f"{path}.phoneNumber")
        if phone:
            result["phone_number"] = phone
        return result


_ALLEGRO_STATUSES = set(AllegroStatus.values)
_FULFILLMENT_STATUSES = set(FulfillmentStatus.values)
_PAYMENT_TYPES = set(PaymentType.values)
_TAX_ID_TYPES = set(TaxIdType.values)
# The address fields the specification calls required.
_DELIVERY_REQUIRED = ("firstName", "lastName", "street", "city", "zipCode", "countryCode")


def parse_checkout_form(form: Any) -> ParsedForm:
    """Read one checkout form. Raises FormRejected only for a form with no usable id."""
    if not isinstance(form, dict):
        raise FormRejected(NOT_A_FORM)
    r = _Reader()
    external_id = r.text(form, "id", "id", 64)
    if not external_id:
        raise FormRejected(NO_FORM_ID)
    p = ParsedForm(external_id=external_id)

    p.allegro_status = r.enum(form, "status", "status", _ALLEGRO_STATUSES)
    if form.get("status") is None:
        r.warn(MISSING, path="status")
    p.revision = r.text(form, "revision", "revision", 64)
    p.buyer_message = r.text(form, "messageToSeller", "messageToSeller", 10_000)
    p.allegro_updated_at = r.moment(form, "updatedAt", "updatedAt")
    p.marketplace = r.text(r.block(form, "marketplace", "marketplace"), "id", "marketplace.id", 32)
    filled_in = p.allegro_status in (
        AllegroStatus.FILLED_IN,
        AllegroStatus.READY_FOR_PROCESSING,
    )

    _parse_buyer(r, p, form)
    _parse_fulfillment(r, p, form)
    _parse_lines(r, p, form)
    _parse_summary(r, p, form)
    _parse_payment(r, p, form)
    _parse_delivery(r, p, form, filled_in=filled_in)
    _parse_invoice(r, p, form, filled_in=filled_in)
    p.warnings = r.warnings
    return p


def _parse_buyer(r: _Reader, p: ParsedForm, form: dict) -> None:
    buyer = r.block(form, "buyer", "buyer", required=True)
    p.buyer_id = r.text(buyer, "id", "buyer.id", 64)
    p.buyer_login = r.text(buyer, "login", "buyer.login", 100, required=bool(buyer))
    p.buyer_email = r.text(buyer, "email", "buyer.email", 254, required=bool(buyer))
    p.buyer_first_name = r.text(buyer, "firstName", "buyer.firstName", 100)
    p.buyer_last_name = r.text(buyer, "lastName", "buyer.lastName", 100)
    p.buyer_company = r.text(buyer, "companyName", "buyer.companyName", 200)
    p.buyer_phone = r.phone(buyer, "phoneNumber", "buyer.phoneNumber")
    p.buyer_guest = r.flag(buyer, "guest", "buyer.guest")
    preferences = r.block(buyer, "preferences", "buyer.preferences")
    p.buyer_language = r.text(preferences, "language", "buyer.preferences.language", 16)
    address = r.block(buyer, "address", "buyer.address")
    p.buyer_address = r.address(address, "buyer.address", zip_key="postCode")


def _parse_fulfillment(r: _Reader, p: ParsedForm, form: dict) -> None:
    fulfillment = r.block(form, "fulfillment", "fulfillment")
    p.fulfillment_status = (
        r.enum(fulfillment, "status", "fulfillment.status", _FULFILLMENT_STATUSES) or ""
    )


def _parse_lines(r: _Reader, p: ParsedForm, form: dict) -> None:
    items = r.items(form, "lineItems", "lineItems")
    if not items:
        r.warn(NO_LINES)
    seen: set[str] = set()
    for index, item in enumerate(items):
        path = f"lineItems[{index}]"
        if not isinstance(item, dict):
            r.warn(LINE_NOT_AN_OBJECT, path=path)
            continue
        line_id = r.text(item, "id", f"{path}.id", 64)
        if not line_id:
            line_id = f"missing-{index}"
            r.warn(LINE_WITHOUT_ID, path=path, line=line_id)
        if line_id in seen:
            r.warn(LINE_TWICE, path=path, line=line_id)
            continue
        seen.add(line_id)
        offer = r.block(item, "offer", f"{path}.offer", required=True)
        line = ParsedLine(external_id=line_id, position=index)
        line.offer_id = r.text(offer, "id", f"{path}.offer.id", 64, required=bool(offer))
        line.offer_name = r.text(offer, "name", f"{path}.offer.name", 300, required=bool(offer))
        external = r.block(offer, "external", f"{path}.offer.external")
        line.sku = r.text(external, "id", f"{path}.offer.external.id", 100)
        line.quantity = _quantity(r, item.get("quantity"), f"{path}.quantity")
        price = r.block(item, "price", f"{path}.price", required=True)
        amount = r.amount(price, f"{path}.price.amount")
        if amount is None and price:
            r.warn(NO_PRICE, path=path)
        line.price = amount if amount is not None else Decimal("0.00")
        line.currency = r.currency(price, f"{path}.price.currency")
        original = r.block(item, "originalPrice", f"{path}.originalPrice")
        line.original_price = r.amount(original, f"{path}.originalPrice.amount")
        line.bought_at = r.moment(item, "boughtAt", f"{path}.boughtAt")
        p.lines.append(line)
    moments = [line.bought_at for line in p.lines if line.bought_at is not None]
    p.bought_at = min(moments) if moments else None


def _quantity(r: _Reader, value: Any, path: str) -> int:
    if isinstance(value, bool):
        value = None
    if isinstance(value, int) and 0 < value <= MAX_QUANTITY:
        return value
    if isinstance(value, float | str):
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            number = None
        if (
            number is not None
            and number.is_finite()
            and number == number.to_integral_value()
            and 0 < number <= MAX_QUANTITY
        ):
            return int(number)
    r.warn(BAD_QUANTITY, path=path, value=clean_text(str(value))[:20])
    return 1


def _parse_summary(r: _Reader, p: ParsedForm, form: dict) -> None:
    summary = r.block(form, "summary", "summary", required=True)
    total = r.block(summary, "totalToPay", "summary.totalToPay", required=bool(summary))
    amount = r.amount(total, "summary.totalToPay.amount")
    p.currency = r.currency(total, "summary.totalToPay.currency")
    if amount is None:
        amount = sum((line.price * line.quantity for line in p.lines), Decimal("0.00"))
        r.warn(NO_TOTAL, amount=amount)
    p.total_to_pay = amount
    if not p.currency:
        p.currency = next((line.currency for line in p.lines if line.currency), "")


def _parse_payment(r: _Reader, p: ParsedForm, form: dict) -> None:
    payment = r.block(form, "payment", "payment")
    p.payment_id = r.text(payment, "id", "payment.id", 64)
    payment_type = r.text(payment, "type", "payment.type", 32)
    if payment_type and payment_type not in _PAYMENT_TYPES:
        r.warn(UNKNOWN_VALUE, path="payment.type", value=payment_type)
    p.payment_type = payment_type
    p.payment_provider = r.text(payment, "provider", "payment.provider", 32)
    p.paid_at = r.moment(payment, "finishedAt", "payment.finishedAt")
    paid = r.block(payment, "paidAmount", "payment.paidAmount")
    p.paid_amount = r.amount(paid, "payment.paidAmount.amount")
    p.payment_status = payment_status(p.payment_type, p.paid_amount, p.total_to_pay)


def payment_status(payment_type: str, paid: Decimal | None, total: Decimal) -> str:
    """The payment axis: cash on delivery, or how the paid amount compares with the total."""
    if payment_type == PaymentType.CASH_ON_DELIVERY:
        return PaymentStatus.CASH_ON_DELIVERY
    if paid is None or paid <= 0:
        return PaymentStatus.NONE
    if paid < total:
        return PaymentStatus.PARTIAL
    if paid > total:
        return PaymentStatus.OVERPAID
    return PaymentStatus.PAID


def _parse_delivery(r: _Reader, p: ParsedForm, form: dict, *, filled_in: bool) -> None:
    delivery = r.block(form, "delivery", "delivery", required=filled_in)
    address = r.block(
        delivery, "address", "delivery.address", required=filled_in and bool(delivery)
    )
    p.delivery_address = r.address(address, "delivery.address")
    if address:
        missing = [key for key in _DELIVERY_REQUIRED if not address.get(key)]
        if missing:
            r.warn(ADDRESS_LACKS, path="delivery.address", fields=", ".join(missing))
    method = r.block(delivery, "method", "delivery.method", required=filled_in and bool(delivery))
    p.delivery_method_id = r.text(method, "id", "delivery.method.id", 64)
    p.delivery_method_name = r.text(method, "name", "delivery.method.name", 200)
    if p.delivery_method_id and not p.delivery_method_name:
        r.warn(MISSING, path="delivery.method.name")
    cost = r.block(delivery, "cost", "delivery.cost")
    p.delivery_cost = r.amount(cost, "delivery.cost.amount")
    pickup = r.block(delivery, "pickupPoint", "delivery.pickupPoint")
    if pickup:
        p.pickup_point_id = r.text(pickup, "id", "delivery.pickupPoint.id", 64, required=True)
        p.pickup_point_name = r.text(pickup, "name", "delivery.pickupPoint.name", 200)
        pickup_address = r.block(pickup, "address", "delivery.pickupPoint.address")
        p.pickup_point_address = r.address(pickup_address, "delivery.pickupPoint.address")
        description = r.text(pickup, "description", "delivery.pickupPoint.description", 300)
        if description:
            p.pickup_point_address["description"] = description
    if filled_in and delivery and not (p.delivery_address.get("phone_number") or p.buyer_phone):
        r.warn(NO_PHONE)


def _parse_invoice(r: _Reader, p: ParsedForm, form: dict, *, filled_in: bool) -> None:
    invoice = r.block(form, "invoice", "invoice", required=filled_in)
    p.invoice_required = r.flag(invoice, "required", "invoice.required")
    address = r.block(invoice, "address", "invoice.address", required=p.invoice_required)
    p.invoice_address = r.address(address, "invoice.address")
    company = r.block(address, "company", "invoice.address.company")
    if company:
        p.invoice_company_name = r.text(company, "name", "invoice.address.company.name", 200)
        p.invoice_tax_ids = _tax_ids(r, company)
        # The one-value column: the Polish NIP if there is one, else the first id.
        main = next((i for i in p.invoice_tax_ids if i["type"] == TaxIdType.PL_NIP), None)
        main = main or (p.invoice_tax_ids[0] if p.invoice_tax_ids else None)
        p.invoice_tax_id = main["value"] if main else ""
        if p.invoice_company_name:
            p.invoice_address["company_name"] = p.invoice_company_name
    person = r.block(address, "naturalPerson", "invoice.address.naturalPerson")
    for name, key in (("first_name", "firstName"), ("last_name", "lastName")):
        value = r.text(person, key, f"invoice.address.naturalPerson.{key}", 100)
        if value:
            p.invoice_address[name] = value


def _tax_ids(r: _Reader, company: dict) -> list[dict[str, str]]:
    """The company's typed tax ids (``ids[]``: PL_NIP, CZ_ICO, CZ_DIC, …), in the form's order.
    The deprecated ``taxId`` is free text ("NIP: 5261040828") without a type: it is read only
    when the form has no usable ids[]."""
    path = "invoice.address.company.ids"
    ids: list[dict[str, str]] = []
    for index, entry in enumerate(r.items(company, "ids", path)):
        if not isinstance(entry, dict):
            r.warn(NOT_AN_OBJECT, path=f"{path}[{index}]")
            continue
        kind = r.enum(entry, "type", f"{path}[{index}].type", _TAX_ID_TYPES)
        if kind is None:
            if entry.get("type") is None:
                r.warn(MISSING, path=f"{path}[{index}].type")
            kind = TaxIdType.OTHER
        value = r.text(entry, "value", f"{path}[{index}].value", 40, required=True)
        if value and {"type": kind, "value": value} not in ids:
            ids.append({"type": str(kind), "value": value})
    if not ids:
        tax_id = r.text(company, "taxId", "invoice.address.company.taxId", 40)
        if tax_id:
            ids.append({"type": "", "value": tax_id})
    return ids
