"""The Allegro channel form (DESIGN §2 step 2).

"Konto e-mail" is the mailbox customer mail is sent from and "Szablon powiadomień klienta" the
customer template set (notifications' Mailbox and TemplateSet, reached through the model's
relations: channels sits below notifications and imports nothing of it).
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from channels.allegro_names import ENVIRONMENTS
from channels.clients.allegro import configured_environments
from channels.models import BACKFILL_DAYS_MAX, SalesChannel
from channels.services.channels import SETTINGS_FIELDS
from core.form_fields import form_field
from core.models import Tenant
from core.variables import Context, variables_for

_ALIAS = re.compile(r"[A-Z]{2}")
# Shown next to the alias field when a third letter is typed: the field's maxlength stops it,
# and the seller is told why rather than left with a silently cut alias.
ALIAS_LIMIT_HINT = _(
    "Only two letters fit: the alias is exactly two letters A–Z, the start of every order "
    "number from this channel (e.g. AL2611000017)."
)


def environment_choices(current: str | None = None) -> list[tuple[str, Any]]:
    choices: list[tuple[str, Any]] = [
        (name, ENVIRONMENTS.get(name, name)) for name in configured_environments()
    ]
    if current and current not in dict(choices):
        choices.append((current, _("%(name)s (not configured on this server)") % {"name": current}))
    return choices


def _model_field(name: str) -> Any:
    return SalesChannel._meta.get_field(name)


class SalesChannelForm(forms.ModelForm):
    # Its choices are the tenant's mailboxes, set in __init__ (a scoped query needs the scope).
    mailbox: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_("E-mail account"),
        empty_label=_("Platform sender (default)"),
        help_text=_(
            "Customer e-mails of this channel are sent from this mailbox (Administration → "
            "Mailboxes). Allegro passes on e-mails to its buyers only from addresses registered "
            "on the seller's Allegro account: after saving, the channel page says whether this "
            "address is registered and offers to register it."
        ),
    )
    allegro_environment = forms.ChoiceField(label=_("Allegro environment"))
    # Declared: the model field's own form field would query the scoped table at import time.
    template_set: forms.ModelChoiceField[Any] = forms.ModelChoiceField(
        queryset=None,
        required=False,
        label=_model_field("template_set").verbose_name,
        help_text=_model_field("template_set").help_text,
    )
    backfill_days = forms.IntegerField(
        label=_("Days of past orders to import"),
        min_value=0,
        max_value=BACKFILL_DAYS_MAX,
        initial=30,
        error_messages={
            "min_value": _("Enter a number of days from 0 to 365."),
            "max_value": _("Enter a number of days from 0 to 365."),
            "invalid": _("Enter a number of days from 0 to 365."),
            "required": _("Enter a number of days from 0 to 365."),
        },
        help_text=_("On the first authorization, orders from this many past days are imported."),
    )

    class Meta:
        model = SalesChannel
        fields = list(SETTINGS_FIELDS)
        widgets = {
            "alias": forms.TextInput(attrs={"maxlength": 2, "size": 3, "autocomplete": "off"}),
            "default_shipment_comment": forms.Textarea(attrs={"rows": 2}),
        }
        help_texts = {
            "seller_notification_email": _(
                "If set, this address gets an e-mail for every new order fetched from Allegro, "
                "once per order. Orders imported from past days (when the channel is first "
                "authorized, or by a re-import) do not send it."
            ),
            "pass_shipment_info": _(
                "On: when a shipment with a tracking number is added to an order, Allegro gets "
                "the tracking number and the order becomes “sent” on Allegro. Off: adding a "
                "shipment tells Allegro nothing; the order's status changes only in apilo. A "
                "status you pick by hand still follows its status mapping."
            ),
        }
        error_messages = {
            "name": {"required": _("Give the channel a name, e.g. “Allegro – main account”.")},
            "alias": {"required": _("Enter a two-letter alias, e.g. AL.")},
            "allegro_login": {"required": _("Enter the login of the Allegro account.")},
            "seller_notification_email": {"invalid": _("Enter a valid e-mail address.")},
        }

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        self.tenant = tenant
        instance = self.instance if self.instance.pk else None
        mailboxes = SalesChannel._meta.get_field("mailbox").related_model._default_manager
        form_field(self, "mailbox", forms.ModelChoiceField).queryset = mailboxes.filter(
            tenant=tenant
        )
        alias = form_field(self, "alias", forms.CharField)
        alias.max_length = None  # our own message for the wrong length
        alias.widget.attrs["maxlength"] = 2
        alias.validators = []
        self.alias_limit_hint = ALIAS_LIMIT_HINT
        env_field = form_field(self, "allegro_environment", forms.ChoiceField)
        env_field.choices = environment_choices(instance.allegro_environment if instance else None)
        if instance is None and len(env_field.choices) >= 1:
            env_field.initial = env_field.choices[0][0]
        if instance is not None and instance.connected_seller_id:
            login = self.fields["allegro_login"]
            login.disabled = True
            login.help_text = _(
                "This channel is connected to this Allegro account. To connect another account, "
                "add a new sales channel."
            )
            env_field.help_text = _(
                "Changing the environment removes the authorization: you will have to click "
                "“Authorize” again."
            )
        if not env_field.choices:
            env_field.help_text = _(
                "No Allegro environment is configured on this server; ask your apilo operator."
            )
        template_set = form_field(self, "template_set", forms.ModelChoiceField)
        template_set.queryset = _model_field("template_set").related_model.objects.filter(
            tenant=tenant
        )
        template_set.empty_label = _("— none: no automatic customer mails —")
        # The safe renderer's catalogue, shown next to the field (the model field validates).
        self.comment_variables = [
            (v.name, v.description) for v in variables_for(Context.SHIPMENT_COMMENT)
        ]

    def clean_alias(self) -> str:
        alias = (self.cleaned_data.get("alias") or "").strip().upper()
        if not _ALIAS.fullmatch(alias):
            raise forms.ValidationError(
                _("The alias must be exactly two letters A–Z, for example AL."), code="alias"
            )
        others = SalesChannel.objects.filter(tenant=self.tenant, alias=alias)
        if self.instance.pk:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise forms.ValidationError(
                _("Another sales channel already uses the alias %(alias)s. Choose other letters.")
                % {"alias": alias},
                code="duplicate_alias",
            )
        return alias

    def clean_name(self) -> str:
        return (self.cleaned_data.get("name") or "").strip()

    def clean_allegro_login(self) -> str:
        return (self.cleaned_data.get("allegro_login") or "").strip()

    def validate_unique(self) -> None:
        # The tenant is not a form field: clean_alias checks (tenant, alias) and the service
        # turns the race the check cannot see into the same message.
        pass

    def settings_data(self) -> dict[str, Any]:
        return {
            name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data
        }
