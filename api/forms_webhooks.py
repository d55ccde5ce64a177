from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from api.models_webhooks import EventType


class SubscriptionForm(forms.Form):
    # A CharField: the service checks the scheme and the address (and says so in its words).
    url = forms.CharField(label=_("Address"), max_length=500)
    events = forms.MultipleChoiceField(
        label=_("Events"), choices=EventType.choices, widget=forms.CheckboxSelectMultiple
    )
