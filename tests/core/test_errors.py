"""The one user-facing error type (core.errors): every kind has a stable snake_case code, and a
page puts it on its form or shows it as a message in one way."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

from django import forms
from django.contrib.messages import ERROR
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import RequestFactory

from core.errors import UserError, add_to_form, show_as_message

REPO = Path(__file__).resolve().parents[2]
APPS = ("core", "channels", "orders", "sync", "fulfillment", "notifications")
SNAKE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
# The refusals people meet today; a new kind joins them by deriving from UserError.
KNOWN = {
    "core.services.AccountError",
    "core.services.SlugTaken",
    "core.services.EmailTaken",
    "core.services.InvitationError",
    "core.services.LastAdministratorError",
    "core.renderer.TemplateProblem",
    "channels.services.oauth.AuthorizationFailed",
    "channels.services.channels.DuplicateAlias",
    "orders.statuses.StatusError",
    "orders.statuses.StatusLocked",
    "orders.statuses.StatusNameTaken",
    "orders.statuses.StatusInUse",
    "orders.changes.OrderStatusError",
    "sync.backfill.BackfillRejected",
    "fulfillment.services.mappings.MappingError",
    "fulfillment.services.shipments.ShipmentError",
}


def app_modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (REPO / app).rglob("*.py")
        if "migrations" not in path.parts and path.name != "__init__.py"
    )


def all_kinds() -> list[type[UserError]]:
    for path in app_modules():
        importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))
    found: list[type[UserError]] = []
    todo = list(UserError.__subclasses__())
    while todo:
        kind = todo.pop()
        found.append(kind)
        todo.extend(kind.__subclasses__())
    return found


def test_every_kind_of_user_error_has_a_code():
    kinds = all_kinds()
    names = {f"{k.__module__}.{k.__qualname__}" for k in kinds}
    assert KNOWN - names == set()
    for kind in kinds:
        parameters = inspect.signature(kind).parameters
        if "code" in parameters:
            # Whoever raises it names the refusal: there is no default to forget it with.
            assert parameters["code"].default is inspect.Parameter.empty, kind
        else:
            # The kind names it itself (one refusal, one code).
            required = [p for p in parameters.values() if p.default is inspect.Parameter.empty]
            error = kind(*["AL"] * len(required))
            assert SNAKE.fullmatch(error.code), kind


def written_codes(path: Path, kinds: set[str]) -> list[tuple[int, object]]:
    """(line, value) of every code a raise site of the file writes out: ``code=…`` given to
    a kind of UserError, or the code argument of oauth's ``fail(message, code)`` and of
    ``TemplateProblem(message, code)``."""
    found: list[tuple[int, object]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if called in kinds:
            found.extend(
                (node.lineno, k.value.value)
                for k in node.keywords
                if k.arg == "code" and isinstance(k.value, ast.Constant)
            )
        positional = node.args[1] if len(node.args) == 2 else None
        if called in {"fail", "TemplateProblem"} and isinstance(positional, ast.Constant):
            found.append((node.lineno, positional.value))
    return found


def test_every_code_a_raise_site_writes_is_snake_case():
    kinds = {k.__name__ for k in all_kinds()} | {"UserError"}
    written = [
        (f"{path.relative_to(REPO)}:{line}", value)
        for path in app_modules()
        for line, value in written_codes(path, kinds)
    ]
    assert len(written) > 40  # the search sees the raise sites
    assert [(at, v) for at, v in written if not (isinstance(v, str) and SNAKE.fullmatch(v))] == []


class ContactForm(forms.Form):
    email = forms.EmailField()
    name = forms.CharField()


def bound_form() -> ContactForm:
    form = ContactForm({"email": "anna@example.com", "name": "Anna"})
    assert form.is_valid()
    return form


def test_a_field_error_goes_next_to_its_field_with_its_code():
    form = bound_form()
    add_to_form(form, UserError("This address is taken.", code="email_taken", field="email"))
    assert form.errors == {"email": ["This address is taken."]}
    assert [e.code for e in form.errors.as_data()["email"]] == ["email_taken"]
    assert form.non_field_errors() == []
    assert "email" not in form.cleaned_data


def test_an_error_without_a_field_is_the_forms_own():
    form = bound_form()
    add_to_form(form, UserError("Try again later.", code="allegro_unavailable"))
    assert form.non_field_errors() == ["Try again later."]
    assert [e.code for e in form.errors.as_data()["__all__"]] == ["allegro_unavailable"]
    assert form.cleaned_data == {"email": "anna@example.com", "name": "Anna"}


def test_an_error_for_a_field_the_form_does_not_have_is_the_forms_own():
    form = bound_form()
    add_to_form(form, UserError("Choose a role.", code="role_unknown", field="role"))
    assert form.errors == {"__all__": ["Choose a role."]}


def test_a_message_shows_the_errors_text_as_an_error():
    request = RequestFactory().post("/")
    storage = CookieStorage(request)
    request._messages = storage  # what MessageMiddleware sets
    show_as_message(request, UserError("“Nowe” is still used by orders.", code="status_in_use"))
    assert [(m.level, m.message) for m in storage] == [(ERROR, "“Nowe” is still used by orders.")]
