"""The error a label service raises for staff: a message and the form field it concerns."""

from __future__ import annotations


class LabelError(Exception):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
