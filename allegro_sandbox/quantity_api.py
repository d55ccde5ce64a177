"""Handlers of offer quantity change commands (/sale/offer-quantity-change-commands/...) and
their control endpoints (/__sandbox__/quantity-commands)."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, errors
from .state import Store
from .state.quantity import QuantityError
from .web import Request, Response, control_json, json_response


def _raise(e: QuantityError) -> ApiError:
    return errors(e.status, e.code, e.message, e.path)


class QuantityApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    def put_command(self, req: Request) -> Response:
        try:
            cmd = self.store.put_quantity_command(
                req.auth.seller_id, req.params["commandId"], req.json()
            )
        except QuantityError as e:
            raise _raise(e) from None
        return json_response(cmd.report(), status=201)

    def _command(self, req: Request) -> Any:
        cmd = self.store.quantity_command(req.auth.seller_id, req.params["commandId"])
        if cmd is None:
            raise errors(404, "NOT_FOUND", "Command not found", "commandId")
        return cmd

    def get_command(self, req: Request) -> Response:
        return json_response(self._command(req).report())

    def get_tasks(self, req: Request) -> Response:
        cmd = self._command(req)
        try:
            limit = int(req.q("limit", "100") or "100")
            offset = int(req.q("offset", "0") or "0")
        except ValueError:
            raise errors(422, "VALIDATION_ERROR", "limit and offset must be integers") from None
        if not 1 <= limit <= 1000 or not 0 <= offset <= 999:
            raise errors(422, "VALIDATION_ERROR", "limit 1..1000, offset 0..999")
        return json_response({"tasks": cmd.task_list()[offset : offset + limit]})

    # ------------------------------------------------------------------ control
    def control_list(self, req: Request) -> Response:
        """Every command (resolved first), with how many PUTs each id received."""
        with self.store.lock:
            self.store.resolve_all_quantity()
            return control_json(
                {
                    "config": dict(self.store.quantity_config),
                    "commands": [c.record() for c in self.store.quantity_commands.values()],
                }
            )

    def control_config(self, req: Request) -> Response:
        """command_seconds: how long a command's tasks stay NEW (sandbox clock)."""
        body = req.json()
        with self.store.lock:
            for key, value in (body or {}).items():
                if key not in self.store.quantity_config:
                    return control_json({"error": f"unknown setting {key!r}"}, 400)
                self.store.quantity_config[key] = float(value)
            return control_json({"config": dict(self.store.quantity_config)})
