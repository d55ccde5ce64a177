"""A form's own field, as the kind of field it is declared to be.

A form's ``fields`` are plain ``Field`` to a type checker; forms that fill in choices or limits
at run time (from the tenant's rows) take the field through here, which also says so loudly if
a field is ever redeclared as another kind.
"""

from __future__ import annotations

from typing import TypeVar

from django import forms

_Field = TypeVar("_Field", bound=forms.Field)


def form_field(form: forms.BaseForm, name: str, kind: type[_Field]) -> _Field:
    field = form.fields[name]
    if not isinstance(field, kind):
        raise TypeError(
            f"{type(form).__name__}.{name} is a {type(field).__name__}, not a {kind.__name__}"
        )
    return field
