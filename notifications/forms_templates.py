"""Forms of Administracja → Szablony wiadomości: a set, a template, the preview's order."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.form_fields import form_field
from core.models import Tenant
from notifications.models import MessageTemplate, TemplateSet, Trigger
from notifications.template_sets import TemplateData, check_template
from orders.models import OrderStatus


class TemplateSetForm(forms.ModelForm):
    class Meta:
        model = TemplateSet
        fields = ["name", "language"]
        error_messages = {"name": {"required": _("Give the set a name.")}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def validate_unique(self) -> None:
        # The tenant is not a form field: the service turns a duplicate name into a message.
        pass


class CopySetForm(forms.Form):
    name = forms.CharField(label=_("Name of the copy"), max_length=100)


class MessageTemplateForm(forms.ModelForm):
    # Declared: the model field's own form field would query the scoped table at import time.
    status: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("status"),
        help_text=_("For “Status entered”: the mail goes when an order enters this status."),
    )

    class Meta:
        model = MessageTemplate
        fields = [
            "name",
            "trigger",
            "status",
            "category",
            "subject",
            "body_text",
            "body_html",
            "is_active",
        ]
        widgets = {
            "subject": forms.TextInput(attrs={"size": 60}),
            "body_text": forms.Textarea(attrs={"rows": 12}),
            "body_html": forms.Textarea(attrs={"rows": 8}),
        }
        help_texts = {
            "category": _(
                "What the mail tells the buyer. Allegro forbids sellers to send its buyers order "
                "or payment confirmations, status updates, tracking links, payment reminders, "
                "thanks or feedback requests and invoices (since 20 October 2025). Mails of "
                "these categories to buyers from Allegro are held back, not sent, unless an "
                "administrator allows the category on the sales channel."
            ),
        }
        error_messages = {
            "name": {"required": _("Give the template a name.")},
            "subject": {"required": _("Write the subject.")},
            "body_text": {"required": _("Write the plain-text body.")},
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        status = form_field(self, "status", forms.ModelChoiceField)
        status.queryset = OrderStatus.objects.filter(tenant=tenant)
        status.required = False
        status.empty_label = _("— any / not used —")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        for field, messages in check_template(
            trigger=data.get("trigger", ""),
            status=data.get("status"),
            subject=data.get("subject", ""),
            body_text=data.get("body_text", ""),
            body_html=data.get("body_html", ""),
        ).items():
            for message in messages:
                self.add_error(field, message)
        return data

    def template_data(self) -> TemplateData:
        data = self.cleaned_data
        return TemplateData(
            name=data["name"],
            trigger=data["trigger"],
            status=data.get("status") if data["trigger"] == Trigger.STATUS_ENTERED else None,
            category=data["category"],
            subject=data["subject"],
            body_text=data["body_text"],
            body_html=data.get("body_html") or "",
            is_active=bool(data.get("is_active")),
        )
