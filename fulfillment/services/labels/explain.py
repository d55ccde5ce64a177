"""Allegro's errors of a label for staff: its ``userMessage`` as is with the field it names,
and our own explanation where Allegro's words say nothing (REFERENCE §10, opaque errors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _

# What Allegro answers when the receiver's e-mail is missing, insurance is below the cash on
# delivery or a command id was reused (allegro-api 10837, 9128).
OPAQUE_PREFIX = "Problem z nadaniem przesyłki"


@dataclass(frozen=True)
class Problem:
    message: str  # Allegro's words, or ours for an opaque error
    field: str  # Allegro's path, e.g. input.packages[0].weight ("" when it names none)
    ours: bool = False  # the explanation is ours, not Allegro's


def explain(errors: list[dict[str, Any]], shipment_input: dict[str, Any]) -> list[Problem]:
    out = []
    for err in errors:
        text = str(err.get("userMessage") or err.get("message") or "")
        path = str(err.get("path") or "")
        if text.startswith(OPAQUE_PREFIX) or not text:
            out.append(Problem(_opaque(shipment_input, path), path, ours=True))
        else:
            out.append(Problem(text, path))
    return out


def _opaque(inp: dict[str, Any], path: str) -> str:
    receiver = inp.get("receiver") or {}
    if not receiver.get("email"):
        return _(
            "Allegro could not make the label and did not say why. The receiver's e-mail is "
            "missing: Allegro needs the buyer's @allegromail.pl address from the order."
        )
    cod = inp.get("cashOnDelivery") or {}
    insurance = inp.get("insurance") or {}
    if cod and insurance and _amount(insurance) < _amount(cod):
        return _(
            "Allegro could not make the label and did not say why. The insurance is lower than "
            "the cash on delivery amount: insure the parcel for at least the amount to collect."
        )
    if path == "commandId":
        return _(
            "Allegro could not make the label and did not say why: it has already seen this "
            "label's request. Press Retry: apilo sends it again as a new request."
        )
    return _(
        "Allegro could not make the label and did not say why (“Problem z nadaniem przesyłki”). "
        "Check the sender's e-mail and phone, the receiver's e-mail, and that the insurance "
        "is not below the cash on delivery amount."
    )


def _amount(money: dict[str, Any]) -> float:
    try:
        return float(str(money.get("amount")).replace(",", "."))
    except (TypeError, ValueError):
        return 0.0
