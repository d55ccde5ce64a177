"""Request and journal faults a test switches on through the control API."""

from __future__ import annotations

import random
import threading
from typing import Any

FAULT_FIELDS = {
    "drop_events": float,  # share of new journal events withheld until released
    "duplicate_events": float,  # share of events inserted twice (different ids)
    "out_of_order": float,  # share of event batches inserted in reverse order
    "delay_events_seconds": float,  # events inserted this many (sandbox) seconds late
    "error_5xx": float,  # share of API requests answered with a 5xx
    "error_status": int,  # which 5xx (default 500)
    "latency_ms": float,  # added latency on API requests
    "timeout": float,  # share of API requests that hang and then close without an answer
    "hang_seconds": float,  # how long a "timeout" hangs (default 120)
    "reset": float,  # share of API requests answered with a TCP reset
    "block_429_seconds": float,  # block the client id (429) for this long, starting now
    "path_prefix": str,  # restrict request faults to paths with this prefix
    "include_auth": bool,  # request faults also hit /auth/oauth/token
    "stuck_commands": bool,  # WzA commands stay IN_PROGRESS until cleared
    "seed": int,
}


class FaultsMixin:
    """Fault configuration per seller, client id or globally (part of ``Store``)."""

    def _fault_rng(self, key: str) -> random.Random:
        rng = self.fault_rngs.get(key)
        if rng is None:
            rng = random.Random(self.faults.get(key, {}).get("seed", 0))
            self.fault_rngs[key] = rng
        return rng

    def _event_faults(self, seller_id: str) -> tuple[dict[str, Any], random.Random]:
        key = f"seller:{seller_id}"
        if key in self.faults:
            return self.faults[key], self._fault_rng(key)
        return self.faults.get("global", {}), self._fault_rng("global")

    @staticmethod
    def _hit(rng: random.Random, share: float | None) -> bool:
        if not share:
            return False
        return share >= 1 or rng.random() < share

    # ------------------------------------------------------------------ faults
    @staticmethod
    def fault_key(seller_id: str | None, client_id: str | None) -> str:
        if seller_id:
            return f"seller:{seller_id}"
        if client_id:
            return f"client:{client_id}"
        return "global"

    def set_faults(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        cfg = dict(self.faults.get(key, {}))
        for name, value in values.items():
            if name not in FAULT_FIELDS:
                raise ValueError(f"unknown fault {name!r}")
            if value is None:
                cfg.pop(name, None)
            else:
                cfg[name] = FAULT_FIELDS[name](value)
        self.faults[key] = cfg
        self.fault_rngs.pop(key, None)
        if cfg.get("block_429_seconds") and key.startswith("client:"):
            self.rate.block(key.split(":", 1)[1], cfg.pop("block_429_seconds"))
        return cfg

    def clear_faults(self, key: str | None) -> None:
        if key is None:
            self.faults.clear()
            self.fault_rngs.clear()
            self.rate.blocked_until.clear()
        else:
            self.faults.pop(key, None)
            self.fault_rngs.pop(key, None)
            if key.startswith("client:"):
                self.rate.blocked_until.pop(key.split(":", 1)[1], None)
        # anything hanging on a timeout fault is let go
        self.hang_release.set()
        self.hang_release = threading.Event()

    def request_faults(
        self, seller_id: str | None, client_id: str | None
    ) -> tuple[dict[str, Any], random.Random]:
        for key in (
            f"seller:{seller_id}" if seller_id else None,
            f"client:{client_id}" if client_id else None,
            "global",
        ):
            if key and key in self.faults:
                return self.faults[key], self._fault_rng(key)
        return {}, self._fault_rng("global")
