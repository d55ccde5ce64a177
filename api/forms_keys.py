from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from api.models import KeyScope


class KeyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=100)
    scope = forms.ChoiceField(label=_("Access"), choices=KeyScope.choices, initial=KeyScope.READ)
    rate_limit = forms.IntegerField(
        label=_("Requests per minute"), min_value=1, max_value=10000, initial=150
    )
