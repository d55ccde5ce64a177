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
    # which of our explanations replaced Allegro's opaque words ("": Allegro's own words)
    ours: str = ""


def explain(errors: list[dict[str, Any]], shipment_input: dict[str, Any]) -> list[Problem]:
    out = []
    for err in errors:
        text = str(err.get("userMessage") or err.get("message") or "")
        path = str(err.get("path") or "")
        if err.get("ours"):
            out.append(Problem(text, path))  # already our words (limits checked by us)
        elif text.startswith(OPAQUE_PREFIX) or not text:
            code = opaque_code(shipment_input, path)
            out.append(Problem(opaque_text(code), path, ours=code))
        else:
            out.append(Problem(text, path))
    return out


def opaque_code(inp: dict[str, Any], path: str) -> str:
    """Which likely cause an opaque error of this input has (REFERENCE §10)."""
    receiver = inp.get("receiver") or {}
    if not receiver.get("email"):
        return "receiver_email"
    cod = inp.get("cashOnDelivery") or {}
    insurance = inp.get("insurance") or {}
    if cod and insurance and _amount(insurance) < _amount(cod):
        return "insurance_below_cod"
    if path == "commandId":
        return "command_reused"
    return "unknown"


def opaque_text(code: str) -> str:
    if code == "receiver_email":
        return _(
            "Allegro could not make the label and did not say why. The receiver's e-mail is "
            "missing: Allegro needs the buyer's @allegromail.pl address from the order."
        )
    if code == "insurance_below_cod":
        return _(
            "Allegro could not make the label and did not say why. The insurance is lower than "
            "the cash on delivery amount: insure the parcel for at least the amount to collect."
        )
    if code == "command_reused":
        return _(
            "Allegro could not make the label and did not say why: it has already seen this "
            "label's request. Press Retry: apilo sends it again as a new request."
        )
    return _(
        "Allegro could not make the label and did not say why (“Problem z nadaniem przesyłki”). "
        "Check the sender's e-mail and phone, the receiver's e-mail, and that the insurance "
        "is not below the cash on delivery amount."
    )


def timeline_facts(errors: list[dict[str, Any]], shipment_input: dict[str, Any]) -> list[str]:
    """What the timeline keeps of the errors: Allegro's words, or ``opaque:<code>`` for ours
    (put in words when the entry is read, in the reader's language)."""
    return [f"opaque:{p.ours}" if p.ours else p.message for p in explain(errors, shipment_input)]


def _amount(money: dict[str, Any]) -> float:
    try:
        return float(str(money.get("amount")).replace(",", "."))
    except (TypeError, ValueError):
        return 0.0
