"""Offer quantity change commands (part of ``Store``): PUT /sale/offer-quantity-change-commands.

Asynchronous as on Allegro: a command's tasks are NEW until ``command_seconds`` of the sandbox
clock have passed, then each offer's task is SUCCESS (its quantity applied, an
OFFER_STOCK_CHANGED event emitted) or FAIL (unknown offer, another seller's, or ended). The
same command id with the same body is the same command (the PUT answers its report again); the
same id with another body is refused (409). Every PUT is counted per command id, so tests can
see a retry reuse its id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..clock import iso

QUANTITY_COMMAND_SECONDS = 0.5
MAX_OFFERS_PER_COMMAND = 1000


class QuantityError(Exception):
    def __init__(self, status: int, code: str, message: str, path: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.path = status, code, message, path


@dataclass
class QuantityCommand:
    id: str
    seller_id: str
    created: float
    body: dict[str, Any]
    change_type: str
    value: int
    offer_ids: list[str]
    puts: int = 1
    completed: float | None = None
    # offer id -> (status, message)
    tasks: dict[str, tuple[str, str]] = field(default_factory=dict)

    def report(self) -> dict[str, Any]:
        done = [s for s, _m in self.tasks.values()]
        return {
            "id": self.id,
            "createdAt": iso(self.created),
            "completedAt": iso(self.completed) if self.completed is not None else None,
            "taskCount": {
                "total": len(self.offer_ids),
                "success": done.count("SUCCESS"),
                "failed": done.count("FAIL"),
            },
        }

    def task_list(self) -> list[dict[str, Any]]:
        out = []
        for offer_id in self.offer_ids:
            status, message = self.tasks.get(offer_id, ("NEW", ""))
            task: dict[str, Any] = {
                "offer": {"id": offer_id},
                "field": "stock",
                "status": status,
                "message": message,
                "errors": [],
            }
            if status == "FAIL":
                task["errors"] = [
                    {
                        "code": "OFFER_NOT_MODIFIABLE" if "ended" in message else "NOT_FOUND",
                        "message": message,
                        "details": None,
                        "path": "stock",
                        "userMessage": message,
                        "metadata": {},
                    }
                ]
            out.append(task)
        return out

    def record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "seller_id": self.seller_id,
            "changeType": self.change_type,
            "value": self.value,
            "offers": list(self.offer_ids),
            "puts": self.puts,
            "completed": self.completed is not None,
            "tasks": {k: v[0] for k, v in self.tasks.items()},
        }


def _parse(body: Any) -> tuple[str, int, list[str]]:
    if not isinstance(body, dict):
        raise QuantityError(400, "VALIDATION_ERROR", "Request body must be a JSON object")
    mod = body.get("modification")
    if not isinstance(mod, dict) or mod.get("changeType") not in ("FIXED", "GAIN"):
        raise QuantityError(
            422, "VALIDATION_ERROR", "modification.changeType must be FIXED or GAIN", "modification"
        )
    value = mod.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        raise QuantityError(422, "VALIDATION_ERROR", "modification.value must be an integer")
    if mod["changeType"] == "FIXED" and value < 0:
        raise QuantityError(422, "VALIDATION_ERROR", "A new quantity cannot be negative")
    criteria = body.get("offerCriteria")
    if not isinstance(criteria, list) or not criteria:
        raise QuantityError(422, "VALIDATION_ERROR", "offerCriteria must not be empty")
    offer_ids: list[str] = []
    for criterium in criteria:
        if not isinstance(criterium, dict) or criterium.get("type") != "CONTAINS_OFFERS":
            raise QuantityError(422, "VALIDATION_ERROR", "Criteria type must be CONTAINS_OFFERS")
        for offer in criterium.get("offers") or []:
            if not isinstance(offer, dict) or not isinstance(offer.get("id"), str):
                raise QuantityError(422, "VALIDATION_ERROR", "Offer id must be a string")
            offer_ids.append(offer["id"])
    if not offer_ids or len(offer_ids) > MAX_OFFERS_PER_COMMAND:
        raise QuantityError(422, "VALIDATION_ERROR", "A command takes 1 to 1000 offers")
    return mod["changeType"], value, offer_ids


class QuantityMixin:
    def clear_quantity(self) -> None:
        self.quantity_commands: dict[str, QuantityCommand] = {}
        self.quantity_config: dict[str, float] = {"command_seconds": QUANTITY_COMMAND_SECONDS}

    def put_quantity_command(self, seller_id: str, command_id: str, body: Any) -> QuantityCommand:
        change_type, value, offer_ids = _parse(body)
        cmd = self.quantity_commands.get(command_id)
        if cmd is not None:
            if cmd.seller_id != seller_id or cmd.body != body:
                raise QuantityError(409, "CONFLICT", "Command id was already used")
            cmd.puts += 1
            return self.resolve_quantity(cmd)
        now = self.clock.now()  # type: ignore[attr-defined]
        cmd = QuantityCommand(command_id, seller_id, now, body, change_type, value, offer_ids)
        self.quantity_commands[command_id] = cmd
        self.dirty = True  # type: ignore[attr-defined]
        return cmd

    def quantity_command(self, seller_id: str, command_id: str) -> QuantityCommand | None:
        cmd = self.quantity_commands.get(command_id)
        if cmd is None or cmd.seller_id != seller_id:
            return None
        return self.resolve_quantity(cmd)

    def resolve_quantity(self, cmd: QuantityCommand) -> QuantityCommand:
        now = self.clock.now()  # type: ignore[attr-defined]
        if cmd.completed is not None or now < cmd.created + self.quantity_config["command_seconds"]:
            return cmd
        offers: dict[str, dict[str, Any]] = self.offers  # type: ignore[attr-defined]
        for offer_id in cmd.offer_ids:
            offer = offers.get(offer_id)
            if offer is None or offer["seller_id"] != cmd.seller_id:
                cmd.tasks[offer_id] = ("FAIL", "The offer does not exist.")
            elif offer["status"] == "ENDED":
                cmd.tasks[offer_id] = ("FAIL", "The offer has ended and cannot be modified.")
            else:
                new = cmd.value if cmd.change_type == "FIXED" else offer["available"] + cmd.value
                offer["available"] = max(0, new)
                cmd.tasks[offer_id] = ("SUCCESS", "")
                self.emit_offer_event(  # type: ignore[attr-defined]
                    cmd.seller_id, "OFFER_STOCK_CHANGED", offer
                )
        cmd.completed = now
        self.dirty = True  # type: ignore[attr-defined]
        return cmd

    def resolve_all_quantity(self) -> None:
        for cmd in self.quantity_commands.values():
            self.resolve_quantity(cmd)
