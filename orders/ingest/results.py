"""What an upsert tells its caller: an UpsertResult per checkout form, in a BatchResult."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    FAILED = "failed"


@dataclass(frozen=True)
class UpsertResult:
    """What happened to one checkout form. `order_id`/`number` are set unless it failed;
    `warnings` are the parse warnings now stored on the order; `error` says why it failed."""

    external_id: str
    outcome: Outcome
    order_id: int | None = None
    number: str = ""
    warnings: tuple[str, ...] = ()
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != Outcome.FAILED


@dataclass
class BatchResult:
    """One UpsertResult per input form, in input order."""

    results: list[UpsertResult] = field(default_factory=list)

    def with_outcome(self, outcome: Outcome) -> list[UpsertResult]:
        return [r for r in self.results if r.outcome == outcome]

    @property
    def created(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.CREATED)

    @property
    def updated(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.UPDATED)

    @property
    def unchanged(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.UNCHANGED)

    @property
    def failed(self) -> list[UpsertResult]:
        return self.with_outcome(Outcome.FAILED)

    def counts(self) -> dict[str, int]:
        return {outcome.value: len(self.with_outcome(outcome)) for outcome in Outcome}
