from __future__ import annotations

import pytest
from django import forms

from core.form_fields import form_field


class PickForm(forms.Form):
    colour = forms.ChoiceField()
    note = forms.CharField()


def test_the_form_gets_its_own_field_of_the_declared_kind():
    form = PickForm()

    form_field(form, "colour", forms.ChoiceField).choices = [("red", "Red")]

    assert form.fields["colour"].choices == [("red", "Red")]
    assert PickForm.base_fields["colour"].choices == []
    assert PickForm().fields["colour"].choices == []


def test_a_field_of_another_kind_is_refused():
    with pytest.raises(TypeError, match=r"^PickForm\.note is a CharField, not a ChoiceField$"):
        form_field(PickForm(), "note", forms.ChoiceField)
