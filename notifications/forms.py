"""Forms of the mailbox pages and the send log's filters."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from core.form_fields import form_field
from notifications.models import Mailbox, MailState


class MailboxForm(forms.ModelForm):
    # Never rendered back (render_value=False): on edit an empty field keeps the stored one.
    password = forms.CharField(
        label=_("password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
    )

    class Meta:
        model = Mailbox
        fields = [
            "name",
            "from_name",
            "from_address",
            "host",
            "port",
            "security",
            "username",
        ]
        error_messages = {
            "name": {"required": _("Give the mailbox a name, e.g. “Shop”.")},
            "host": {"required": _("Enter the SMTP server, e.g. smtp.example.com.")},
            "from_address": {
                "required": _("Enter the sender address."),
                "invalid": _("Enter a valid e-mail address."),
            },
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        editing = self.instance.pk is not None
        self.fields["password"].help_text = (
            _("Leave empty to keep the saved password (it is never shown).")
            if editing and self.instance.password
            else _("Stored encrypted; it is never shown again.")
        )
        self.fields["port"].widget.attrs.update({"min": 1, "max": 65535})

    def clean_port(self) -> int:
        port = self.cleaned_data["port"]
        if not 1 <= port <= 65535:
            raise forms.ValidationError(_("Enter a port from 1 to 65535."))
        return int(port)


class TestMailForm(forms.Form):
    to = forms.EmailField(
        label=_("Send a test e-mail to"),
        error_messages={
            "required": _("Enter the address to send the test to."),
            "invalid": _("Enter a valid e-mail address."),
        },
    )


class MailLogFilterForm(forms.Form):
    state = forms.ChoiceField(label=_("State"), required=False)
    mailbox = forms.ChoiceField(label=_("Mailbox"), required=False)
    order = forms.CharField(label=_("Order number"), required=False, max_length=40)
    to = forms.CharField(label=_("Recipient"), required=False, max_length=320)

    def __init__(self, *args: Any, mailboxes: list[Mailbox], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        form_field(self, "state", forms.ChoiceField).choices = [
            ("", _("Any")),
            *MailState.choices,
        ]
        form_field(self, "mailbox", forms.ChoiceField).choices = [
            ("", _("Any")),
            ("platform", _("Platform sender")),
        ] + [(str(m.pk), m.name) for m in mailboxes]
