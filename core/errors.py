"""The one kind of error a user can understand, and the two ways a page shows it.

A service refuses something the user can fix or must know about by raising a ``UserError``
(usually one of its app's subclasses, which callers catch by name): ``message`` is translated
and meant for the user, ``code`` is a stable snake_case name of the refusal (what an API
answers, what a test checks), ``field`` names the form field it belongs to, if any. A page puts
it on its form with ``add_to_form`` or shows it as a message with ``show_as_message``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class UserError(Exception):
    """A refusal the user can understand: ``message`` for people, ``code`` for machines."""

    def __init__(self, message: str, *, code: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.field = field


def add_to_form(form: forms.BaseForm, error: UserError) -> None:
    """Show the error on the form: next to its field when the form has that field, otherwise
    among the form's own errors; with its code, as a form's own checks give theirs."""
    field = error.field if error.field in form.fields else None
    form.add_error(field, ValidationError(error.message, code=error.code))


def show_as_message(request: HttpRequest, error: UserError) -> None:
    """Show the error at the top of the next page (for actions without a form of their own)."""
    messages.error(request, error.message)
