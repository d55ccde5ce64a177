"""Allegro's delivery proposal of an order (``GET /shipment-management/delivery-proposals``):
the prefilled shipment and the delivery option's limits.

A task fetches it (``refresh_proposal``, outside any transaction) and keeps it in the cache
under a key with the tenant and the order; the label page only reads it (``stored_proposal``)
and asks for a fetch when there is none. An order whose delivery method WzA does not serve
is remembered as such, and its page keeps the manual waybill form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.cache import cache

from channels.clients.allegro import (
    AllegroError,
    AllegroPermanentError,
    DeliveryOption,
    get_delivery_proposal,
)
from channels.services.api import on_behalf
from orders.models import Order

TTL_SECONDS = 15 * 60
UNSUPPORTED = "UNSUPPORTED_DELIVERY_METHOD"


@dataclass(frozen=True)
class Proposal:
    unsupported: bool = False
    suggested: dict[str, Any] = field(default_factory=dict)
    option: DeliveryOption | None = None
    # Allegro's words when it could not answer (shown; a retry fetches again)
    problem: str = ""


def _key(order: Order) -> str:
    return f"apilo:labels:proposal:{order.tenant_id}:{order.pk}"


def stored_proposal(order: Order) -> Proposal | None:
    raw = cache.get(_key(order))
    if raw is None:
        return None
    option = raw.get("option")
    return Proposal(
        unsupported=raw["unsupported"],
        suggested=raw["suggested"],
        option=DeliveryOption(**{**option, "max_dimensions_cm": _dims(option)}) if option else None,
        problem=raw.get("problem", ""),
    )


def _dims(option: dict[str, Any]) -> tuple[float, float, float] | None:
    dims = option.get("max_dimensions_cm")
    return (float(dims[0]), float(dims[1]), float(dims[2])) if dims else None


def refresh_proposal(order: Order) -> Proposal:
    """Ask Allegro (never inside a transaction) and keep the answer for the page."""
    try:
        answer = on_behalf(order.channel, get_delivery_proposal, order.external_id)
    except AllegroPermanentError as exc:
        if exc.code == UNSUPPORTED:
            proposal = Proposal(unsupported=True)
        else:
            proposal = Proposal(problem=exc.user_message or str(exc))
    except AllegroError as exc:
        # transient: not kept, the page asks again
        return Proposal(problem=exc.user_message or str(exc))
    else:
        proposal = Proposal(
            suggested=answer.suggested_input,
            option=answer.options[0] if answer.options else None,
        )
    cache.set(
        _key(order),
        {
            "unsupported": proposal.unsupported,
            "suggested": proposal.suggested,
            "option": asdict(proposal.option) if proposal.option else None,
            "problem": proposal.problem,
        },
        TTL_SECONDS,
    )
    return proposal
