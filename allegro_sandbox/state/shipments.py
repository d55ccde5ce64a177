"""Wysyłam z Allegro (WzA): delivery proposals, shipment commands, labels, protocols, pickups.

Part of ``Store``. Commands are asynchronous as on Allegro: a create or cancel command is
IN_PROGRESS until ``command_seconds`` of the sandbox clock have passed (forever under the
``stuck_commands`` fault), then SUCCESS or ERROR. A shipment's waybills appear
``waybill_delay_seconds`` after it is created; Allegro then attaches the waybill to the order
itself (no POST of it to ``/order/checkout-forms/{id}/shipments`` is needed).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from .. import data
from ..clock import iso
from .base import CARRIERS

# name -> (delivery type, carrier id, cod, dimension limits cm (l, w, h), weight limit kg)
DELIVERY_METHODS: dict[str, tuple[str, str, bool, tuple[int, int, int], float]] = {
    "Allegro Paczkomaty InPost": ("APM", "INPOST", False, (64, 38, 41), 25.0),
    "Allegro Paczkomaty InPost pobranie": ("APM", "INPOST", True, (64, 38, 41), 25.0),
    "Allegro Kurier DPD": ("DOOR", "DPD", False, (150, 100, 100), 31.5),
    "Allegro Kurier DPD pobranie": ("DOOR", "DPD", True, (150, 100, 100), 31.5),
    "Allegro Kurier InPost": ("DOOR", "INPOST", False, (80, 50, 50), 30.0),
    "Allegro One Box, One Kurier": ("APM", "ALLEGRO", False, (60, 40, 40), 25.0),
    "Allegro Kurier DHL": ("DOOR", "DHL", False, (120, 60, 60), 31.5),
}
# Methods of the seller's own carrier contracts and personal pickup: WzA does not serve them.
UNSUPPORTED_METHODS = ["Odbiór osobisty", "Kurier (umowa własna)"]
COD_LIMIT = "5000.00"
INSURANCE_LIMIT = {"APM": "5000.00", "DOOR": "20000.00"}
TEXT_ON_LABEL_MAX = 100
COMMAND_SECONDS = 1.0
RETRY_AFTER = 1
# Allegro's own words when something it does not name went wrong (allegro-api 10837, 9128).
OPAQUE = "Problem z nadaniem przesyłki. Skontaktuj się z nami"
WAYBILL_PREFIX = {"INPOST": "6", "DPD": "1000", "ALLEGRO": "A1", "DHL": "JJD"}


class WzaError(Exception):
    """A synchronous error of a WzA endpoint (the handler turns it into an answer)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        path: str | None = None,
        items: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.path = status, code, message, path
        self.items = items


def error_item(code: str, message: str, path: str | None, user_message: str) -> dict[str, Any]:
    # WzA's Error400 has no null details; path may be null
    return {"code": code, "message": message, "path": path, "userMessage": user_message}


@dataclass
class Command:
    id: str
    kind: str  # create | cancel | pickup
    seller_id: str
    created: float
    input: dict[str, Any]
    status: str = "IN_PROGRESS"
    result_id: str | None = None  # shipmentId / pickupId
    errors: list[dict[str, Any]] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)  # decided at POST, shown when done


@dataclass
class Shipment:
    id: str
    seller_id: str
    order_id: str | None
    carrier: str
    created: float
    input: dict[str, Any]
    waybills: list[str]
    waybills_at: float
    cancelled: float | None = None
    attached: bool = False  # waybill put on the order's shipments

    def wire(self, now: float) -> dict[str, Any]:
        inp = self.input
        ready = now >= self.waybills_at
        packages = []
        for pkg, waybill in zip(inp["packages"], self.waybills, strict=True):
            p = {k: pkg[k] for k in ("type", "length", "width", "height", "weight") if k in pkg}
            if pkg.get("textOnLabel"):
                p["textOnLabel"] = pkg["textOnLabel"]
            if ready:
                p["waybill"] = waybill
                p["transportingInfo"] = [{"carrierId": self.carrier, "carrierWaybill": waybill}]
            packages.append(p)
        body: dict[str, Any] = {
            "id": self.id,
            "createdDate": iso(self.created),
            "carrier": self.carrier,
            "sender": inp["sender"],
            "receiver": inp["receiver"],
            "packages": packages,
            "labelFormat": inp.get("labelFormat") or "PDF",
            "pickupAvailable": self.carrier != "ALLEGRO" and self.cancelled is None,
            "additionalServices": list(inp.get("additionalServices") or []),
            "additionalProperties": dict(inp.get("additionalProperties") or {}),
            "transport": [self.carrier],
        }
        for key in ("referenceNumber", "insurance", "cashOnDelivery"):
            if inp.get(key):
                body[key] = inp[key]
        if self.cancelled is not None:
            body["canceledDate"] = iso(self.cancelled)
        return body


def _money(value: Any) -> float | None:
    try:
        return float(str(value).replace(",", "."))
    except (TypeError, ValueError):
        return None


def _number(obj: Any) -> float | None:
    if not isinstance(obj, dict):
        return None
    try:
        return float(obj.get("value"))
    except (TypeError, ValueError):
        return None


class ShipmentsMixin:
    """WzA state: ``self.wza_*`` attributes, set up in ``clear_shipments``."""

    def clear_shipments(self) -> None:
        self.wza_shipments: dict[str, Shipment] = {}
        self.wza_commands: dict[tuple[str, str], Command] = {}  # (kind, command id)
        self.wza_pickups: dict[str, dict[str, Any]] = {}
        self.wza_config: dict[str, float] = {
            "command_seconds": COMMAND_SECONDS,
            "waybill_delay_seconds": 0.0,
        }
        self.wza_rng = random.Random(self.seed + 13)  # type: ignore[attr-defined]

    def wza_uuid(self) -> str:
        return str(uuid.UUID(int=self.wza_rng.getrandbits(128), version=4))

    # ------------------------------------------------------------------ proposals
    def delivery_method_of(self, order: Any) -> str:
        return order.cf["delivery"]["method"]["name"]

    def set_delivery_method(self, order: Any, name: str) -> None:
        if name not in DELIVERY_METHODS and name not in UNSUPPORTED_METHODS:
            raise ValueError(f"unknown delivery method {name!r}")
        order.cf["delivery"]["method"] = {"id": data.method_id(name), "name": name}
        order.touch()
        self.dirty_orders.add(order.id)  # type: ignore[attr-defined]

    def delivery_proposal(self, order: Any, seller: Any) -> dict[str, Any]:
        name = self.delivery_method_of(order)
        spec = DELIVERY_METHODS.get(name)
        if spec is None:
            raise WzaError(
                400,
                "UNSUPPORTED_DELIVERY_METHOD",
                f"Delivery method {order.cf['delivery']['method']['id']} is not supported",
                "orderId",
            )
        dtype, _carrier, cod, dims, weight = spec
        cf = order.cf
        addr = cf["delivery"]["address"]
        currency = cf["summary"]["totalToPay"]["currency"]
        receiver: dict[str, Any] = {
            "name": f"{addr.get('firstName', '')} {addr.get('lastName', '')}".strip(),
            "street": addr.get("street"),
            "postalCode": addr.get("zipCode"),
            "city": addr.get("city"),
            "countryCode": addr.get("countryCode") or "PL",
            "email": cf["buyer"]["email"],
            "phone": addr.get("phoneNumber") or cf["buyer"].get("phoneNumber"),
        }
        if addr.get("companyName"):
            receiver["company"] = addr["companyName"]
        point = (cf["delivery"].get("pickupPoint") or {}).get("id")
        if point:
            receiver["point"] = point
        suggested: dict[str, Any] = {
            "sender": {
                "name": f"{seller.first_name} {seller.last_name}",
                "street": "",
                "postalCode": "",
                "city": "",
                "countryCode": "PL",
                "email": seller.email,
                "phone": "",
            },
            "receiver": {k: v for k, v in receiver.items() if v is not None},
            "packages": [
                {
                    "type": "PACKAGE",
                    "length": {"value": 20, "unit": "CENTIMETER"},
                    "width": {"value": 15, "unit": "CENTIMETER"},
                    "height": {"value": 10, "unit": "CENTIMETER"},
                    "weight": {"value": 1.0, "unit": "KILOGRAMS"},
                }
            ],
            "labelFormat": "PDF",
        }
        if cod:
            suggested["cashOnDelivery"] = {
                "amount": cf["summary"]["totalToPay"]["amount"],
                "currency": currency,
            }
        limits: dict[str, Any] = {
            "dimensions": {
                "length": {"value": dims[0], "unit": "CENTIMETER"},
                "width": {"value": dims[1], "unit": "CENTIMETER"},
                "height": {"value": dims[2], "unit": "CENTIMETER"},
            },
            "weight": {"value": weight, "unit": "KILOGRAMS"},
            "insurance": {"amount": INSURANCE_LIMIT[dtype], "currency": currency},
        }
        if cod:
            limits["cashOnDelivery"] = {"amount": COD_LIMIT, "currency": currency}
        option = {
            "deliveryType": dtype,
            "paymentType": "POSTPAID" if cod else "PREPAID",
            "packageType": "PACKAGE",
            "originCountry": "PL",
            "destinationCountry": receiver["countryCode"],
            "limits": limits,
            "additionalServices": [],
            "additionalProperties": [],
        }
        return {"orderId": order.id, "suggestedInput": suggested, "deliveryOptions": [option]}

    # ------------------------------------------------------------------ commands
    def _command_done(self, cmd: Command) -> bool:
        faults, _ = self.request_faults(cmd.seller_id, None)  # type: ignore[attr-defined]
        if faults.get("stuck_commands"):
            return False
        now = self.clock.now()  # type: ignore[attr-defined]
        return now >= cmd.created + self.wza_config["command_seconds"]

    def resolve(self, cmd: Command) -> Command:
        if cmd.status != "IN_PROGRESS" or not self._command_done(cmd):
            return cmd
        out = cmd.outcome
        if out.get("errors"):
            cmd.status, cmd.errors = "ERROR", out["errors"]
        elif cmd.kind == "create":
            cmd.status, cmd.result_id = "SUCCESS", self._make_shipment(cmd)
        elif cmd.kind == "cancel":
            sh = self.wza_shipments[cmd.input["shipmentId"]]
            sh.cancelled = self.clock.now()  # type: ignore[attr-defined]
            cmd.status, cmd.result_id = "SUCCESS", sh.id
        else:
            cmd.status, cmd.result_id = "SUCCESS", self._make_pickup(cmd)
        self.dirty = True  # type: ignore[attr-defined]
        return cmd

    def new_command(self, kind: str, seller_id: str, body: Any) -> Command:
        if not isinstance(body, dict) or not isinstance(body.get("input"), dict):
            raise WzaError(400, "VALIDATION_ERROR", "input must not be null", "input")
        command_id = body.get("commandId") or self.wza_uuid()
        if not isinstance(command_id, str):
            raise WzaError(400, "VALIDATION_ERROR", "commandId must be a string", "commandId")
        if (kind, command_id) in self.wza_commands:
            # A reused command id is refused in Allegro's opaque words (allegro-api 9128).
            raise WzaError(400, "VALIDATION_ERROR", OPAQUE, "commandId")
        cmd = Command(command_id, kind, seller_id, self.clock.now(), body["input"])  # type: ignore[attr-defined]
        check = {
            "create": self._check_create,
            "cancel": self._check_cancel,
            "pickup": self._check_pickup,
        }
        if kind == "create":
            self._required_fields(body["input"])
        cmd.outcome = {"errors": check[kind](seller_id, body["input"])}
        self.wza_commands[(kind, command_id)] = cmd
        self.dirty = True  # type: ignore[attr-defined]
        return cmd

    def command(self, kind: str, seller_id: str, command_id: str) -> Command | None:
        cmd = self.wza_commands.get((kind, command_id))
        if cmd is None or cmd.seller_id != seller_id:
            return None
        return self.resolve(cmd)

    def _order_for(self, seller_id: str, inp: dict[str, Any]) -> Any:
        """The order a create command is for: the receiver's e-mail names the buyer; Allegro
        reads the delivery method from the order (deliveryMethodId is deprecated)."""
        email = (inp.get("receiver") or {}).get("email")
        for o in reversed(self.seller_orders.get(seller_id, [])):  # type: ignore[attr-defined]
            if not o.deleted and email and o.cf["buyer"]["email"] == email:
                return o
        return None

    def _required_fields(self, inp: dict[str, Any]) -> None:
        """What the spec requires is checked at once (400); the rest when the command runs."""
        errs: list[dict[str, Any]] = []

        def err(path: str | None, user_message: str, code: str = "VALIDATION_ERROR") -> None:
            errs.append(error_item(code, user_message, path, user_message))

        sender, receiver = inp.get("sender"), inp.get("receiver")
        packages = inp.get("packages")
        if not isinstance(sender, dict) or not isinstance(receiver, dict):
            err("input.sender", "Dane nadawcy i odbiorcy są wymagane")
            raise WzaError(400, "VALIDATION_ERROR", "", items=errs)
        if not isinstance(packages, list) or not packages:
            err("input.packages", "Przesyłka musi zawierać co najmniej jedną paczkę")
            raise WzaError(400, "VALIDATION_ERROR", "", items=errs)
        if not receiver.get("email"):
            # Allegro says nothing useful when the receiver's e-mail is missing (10837).
            raise WzaError(400, "INTERNAL_ERROR", OPAQUE)
        for part, who in ((sender, "nadawcy"), (receiver, "odbiorcy")):
            prefix = "input.sender" if part is sender else "input.receiver"
            if not (part.get("name") or part.get("company")):
                err(f"{prefix}.name", f"Podaj imię i nazwisko lub nazwę firmy {who}")
            labels = {
                "street": "ulicę",
                "postalCode": "kod pocztowy",
                "city": "miejscowość",
                "email": "adres e-mail",
                "phone": "numer telefonu",
            }
            for key, label in labels.items():
                if not part.get(key):
                    err(f"{prefix}.{key}", f"Podaj {label} {who}")
        for i, pkg in enumerate(packages):
            missing = [
                k
                for k in ("type", "length", "width", "height", "weight")
                if not (isinstance(pkg, dict) and pkg.get(k))
            ]
            if missing:
                err(f"input.packages[{i}].{missing[0]}", "Podaj rodzaj, wymiary i wagę paczki")
        if errs:
            raise WzaError(400, "VALIDATION_ERROR", errs[0]["message"], items=errs)

    def _check_create(self, seller_id: str, inp: dict[str, Any]) -> list[dict[str, Any]]:
        errs: list[dict[str, Any]] = []

        def err(path: str | None, user_message: str, code: str = "VALIDATION_ERROR") -> None:
            errs.append(error_item(code, user_message, path, user_message))

        packages = inp["packages"]
        order = self._order_for(seller_id, inp)
        if order is None:
            err("input.receiver.email", "Nie znaleziono zamówienia dla tego odbiorcy")
            return errs
        spec = DELIVERY_METHODS.get(self.delivery_method_of(order))
        if spec is None:
            errs.append(
                error_item(
                    "UNSUPPORTED_DELIVERY_METHOD",
                    "Delivery method is not supported",
                    None,
                    "Metoda dostawy tego zamówienia nie jest obsługiwana przez Wysyłam z Allegro",
                )
            )
            return errs
        dtype, _, cod, dims, max_weight = spec
        for i, pkg in enumerate(packages):
            if not isinstance(pkg, dict):
                err(f"input.packages[{i}]", "Niepoprawna paczka")
                continue
            values = [_number(pkg.get(k)) for k in ("length", "width", "height")]
            if any(v is None or v <= 0 for v in values):
                err(f"input.packages[{i}]", "Podaj wymiary paczki")
            elif any(
                a > b
                for a, b in zip(sorted(values), sorted(dims), strict=True)  # type: ignore[type-var]
            ):
                err(
                    f"input.packages[{i}].length",
                    "Wymiary paczki przekraczają limit {}x{}x{} cm".format(*dims),
                )
            w = _number(pkg.get("weight"))
            if w is None or w <= 0:
                err(f"input.packages[{i}].weight", "Podaj wagę paczki")
            elif w > max_weight:
                err(
                    f"input.packages[{i}].weight",
                    f"Waga paczki przekracza limit {max_weight:g} kg",
                )
            text = pkg.get("textOnLabel")
            if text is not None and len(str(text)) > TEXT_ON_LABEL_MAX:
                err(
                    f"input.packages[{i}].textOnLabel",
                    f"Tekst na etykiecie może mieć najwyżej {TEXT_ON_LABEL_MAX} znaków",
                )
        codv = inp.get("cashOnDelivery")
        cod_amount = _money(codv.get("amount")) if isinstance(codv, dict) else None
        if codv and not cod:
            err("input.cashOnDelivery", "Ta metoda dostawy nie obsługuje pobrania")
        elif cod_amount is not None:
            if cod_amount > float(COD_LIMIT):
                err("input.cashOnDelivery.amount", f"Kwota pobrania przekracza {COD_LIMIT} zł")
            if not codv.get("iban"):
                err("input.cashOnDelivery.iban", "Podaj numer rachunku do zwrotu pobrania")
        ins = inp.get("insurance")
        ins_amount = _money(ins.get("amount")) if isinstance(ins, dict) else None
        if ins_amount is not None:
            if ins_amount > float(INSURANCE_LIMIT[dtype]):
                err(
                    "input.insurance.amount",
                    f"Kwota ubezpieczenia przekracza {INSURANCE_LIMIT[dtype]} zł",
                )
            elif cod_amount is not None and ins_amount < cod_amount:
                # insurance below the COD amount: the opaque message again (9128)
                errs.append(error_item("INTERNAL_ERROR", OPAQUE, None, OPAQUE))
        return errs

    def _check_cancel(self, seller_id: str, inp: dict[str, Any]) -> list[dict[str, Any]]:
        sh = self.wza_shipments.get(str(inp.get("shipmentId")))
        if sh is None or sh.seller_id != seller_id:
            msg = "Nie znaleziono przesyłki"
            return [error_item("NOT_FOUND", msg, "input.shipmentId", msg)]
        if sh.cancelled is not None:
            msg = "Przesyłka została już anulowana"
            return [error_item("ALREADY_CANCELLED", msg, "input.shipmentId", msg)]
        return []

    def _check_pickup(self, seller_id: str, inp: dict[str, Any]) -> list[dict[str, Any]]:
        for sid in inp.get("shipmentIds") or []:
            sh = self.wza_shipments.get(sid)
            if sh is None or sh.seller_id != seller_id or sh.cancelled is not None:
                msg = f"Nie można zamówić odbioru przesyłki {sid}"
                return [error_item("VALIDATION_ERROR", msg, "input.shipmentIds", msg)]
        if not inp.get("shipmentIds"):
            msg = "Wybierz przesyłki do odbioru"
            return [error_item("VALIDATION_ERROR", msg, "input.shipmentIds", msg)]
        return []

    def _make_shipment(self, cmd: Command) -> str:
        order = self._order_for(cmd.seller_id, cmd.input)
        carrier = DELIVERY_METHODS[self.delivery_method_of(order)][1]
        prefix = WAYBILL_PREFIX.get(carrier, "W")
        waybills = [
            f"{prefix}{self.wza_rng.randint(10**11, 10**12 - 1)}" for _ in cmd.input["packages"]
        ]
        now = self.clock.now()  # type: ignore[attr-defined]
        sh = Shipment(
            self.wza_uuid(),
            cmd.seller_id,
            order.id,
            carrier,
            now,
            cmd.input,
            waybills,
            now + self.wza_config["waybill_delay_seconds"],
        )
        self.wza_shipments[sh.id] = sh
        self.attach_waybills(sh)
        return sh.id

    def attach_waybills(self, sh: Shipment) -> None:
        """Once its waybills exist, WzA attaches them to the order (seen in the order's
        shipments) as Allegro does."""
        now = self.clock.now()  # type: ignore[attr-defined]
        if sh.attached or now < sh.waybills_at or sh.order_id is None:
            return
        order = self.orders.get(sh.order_id)  # type: ignore[attr-defined]
        if order is None:
            return
        line_items = [{"id": li["id"]} for li in order.cf["lineItems"]]
        for waybill in sh.waybills:
            order.shipments.append(
                {
                    "id": f"wza:{sh.id}:{waybill}",
                    "waybill": waybill,
                    "carrierId": sh.carrier,
                    "carrierName": dict(CARRIERS).get(sh.carrier) or sh.carrier,
                    "lineItems": line_items,
                    "createdAt": iso(now),
                }
            )
        order.cf["fulfillment"]["shipmentSummary"]["lineItemsSent"] = "ALL"
        order.touch()
        self.dirty_orders.add(order.id)  # type: ignore[attr-defined]
        sh.attached = True

    def shipment(self, seller_id: str, shipment_id: str) -> Shipment | None:
        sh = self.wza_shipments.get(shipment_id)
        if sh is None or sh.seller_id != seller_id:
            return None
        self.attach_waybills(sh)
        return sh

    def label_shipments(self, seller_id: str, ids: Any) -> list[Shipment]:
        if not isinstance(ids, list) or not ids:
            raise WzaError(400, "VALIDATION_ERROR", "shipmentIds must not be empty", "shipmentIds")
        out = []
        for sid in ids:
            sh = self.shipment(seller_id, str(sid))
            if sh is None:
                raise WzaError(404, "NOT_FOUND", f"Shipment {sid} not found", "shipmentIds")
            if sh.cancelled is not None:
                raise WzaError(
                    400, "SHIPMENT_CANCELLED", f"Shipment {sid} is cancelled", "shipmentIds"
                )
            if self.clock.now() < sh.waybills_at:  # type: ignore[attr-defined]
                raise WzaError(
                    400, "LABEL_NOT_READY", f"Label of shipment {sid} is not ready", "shipmentIds"
                )
            out.append(sh)
        return out

    def _make_pickup(self, cmd: Command) -> str:
        pid = self.wza_uuid()
        shipments = [self.wza_shipments[s] for s in cmd.input["shipmentIds"]]
        self.wza_pickups[pid] = {
            "id": pid,
            "carrierPickupId": f"P{self.wza_rng.randint(10**8, 10**9 - 1)}",
            "carrier": shipments[0].carrier,
            "pickupCarrier": shipments[0].carrier,
            "address": cmd.input.get("address") or {},
            "shipmentIds": [s.id for s in shipments],
            "waybills": [w for s in shipments for w in s.waybills],
            "seller_id": cmd.seller_id,
            "pickupTime": cmd.input.get("pickupTime"),
        }
        return pid

    def snapshot_shipments(self) -> dict[str, Any]:
        return {
            "config": self.wza_config,
            "shipments": len(self.wza_shipments),
            "commands": {
                kind: sum(1 for k in self.wza_commands if k[0] == kind)
                for kind in ("create", "cancel", "pickup")
            },
        }
