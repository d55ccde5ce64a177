"""Forms of the account pages (sign-up, login, password reset, invitations) and of
Administracja → Użytkownicy. They validate; the services in core.services write."""

from __future__ import annotations

import logging
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core import throttling
from core.emails import canonical_email, has_lookalike_characters, users_with_email
from core.mail import send_templated_mail
from core.models import RESERVED_SLUGS, Role, Tenant, slug_validator
from core.services import (
    email_registered,
    email_taken_message,
    is_member_email,
    lookalike_message,
    lookalike_of_an_account,
    slug_taken_message,
)

logger = logging.getLogger(__name__)


class PasswordPairMixin(forms.Form):
    """password1/password2: equal, and accepted by AUTH_PASSWORD_VALIDATORS."""

    def _clean_password_pair(self, email: str | None) -> None:
        cleaned = self.cleaned_data
        password1, password2 = cleaned.get("password1"), cleaned.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("The two passwords do not match."))
            return
        if password1:
            probe = get_user_model()(username=email or "", email=email or "")
            try:
                validate_password(password1, user=probe)
            except ValidationError as error:
                self.add_error("password1", error)


def password_fields() -> tuple[forms.CharField, forms.CharField]:
    return (
        forms.CharField(
            label=_("Password"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        ),
        forms.CharField(
            label=_("Password again"),
            strip=False,
            widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        ),
    )


class AccountEmailField(forms.EmailField):
    """An address an account or invitation will be stored under: its canonical form.

    Addresses that become canonical only by turning characters into others (full-width
    letters, ſ, ß, ligatures) are refused rather than silently changed: the stored address
    must be the one the person typed, not a look-alike.
    """

    default_error_messages = {
        "lookalike": _(
            "This address contains characters that stand in for other letters (such as "
            "full-width letters, ß or ſ). Type it again with ordinary letters."
        ),
    }

    def to_python(self, value: Any) -> str:
        value = super().to_python(value)
        if value in self.empty_values:
            return value
        if has_lookalike_characters(value):
            raise ValidationError(self.error_messages["lookalike"], code="lookalike")
        return canonical_email(value)


class CompanyForm(forms.Form):
    """A new company: its name and its address (/app/<address>/)."""

    company_name = forms.CharField(label=_("Company name"), max_length=200)
    company_slug = forms.CharField(
        label=_("Address in apilo"),
        max_length=50,
        help_text=_(
            "Your back office will be at /app/your-shop/. Lower-case letters, digits, hyphens."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "off", "data-slug-from": "company_name"}),
    )

    def clean_company_name(self) -> str:
        name = self.cleaned_data["company_name"].strip()
        if not name:
            raise ValidationError(_("Enter your company name."))
        return name

    def clean_company_slug(self) -> str:
        slug = self.cleaned_data["company_slug"].strip().lower()
        slug_validator(slug)
        if slug in RESERVED_SLUGS:
            raise ValidationError(
                _("This address is reserved by apilo. Choose another one."), code="reserved"
            )
        if Tenant.objects.filter(slug=slug).exists():
            raise ValidationError(slug_taken_message(), code="taken")
        return slug


class SignUpForm(PasswordPairMixin, CompanyForm):
    """A visitor's account and company in one form."""

    email = AccountEmailField(
        label=_("E-mail"),
        max_length=150,  # the e-mail is also the username (150 characters at most)
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )
    password1, password2 = password_fields()

    field_order = ["email", "password1", "password2", "company_name", "company_slug"]

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if email_registered(email):
            raise ValidationError(email_taken_message(), code="taken")
        return email

    def clean(self) -> dict[str, Any]:
        super().clean()
        cleaned = self.cleaned_data
        self._clean_password_pair(cleaned.get("email"))
        return cleaned


class LoginForm(auth_forms.AuthenticationForm):
    """Django's login form with the e-mail as the login, and throttling of failed attempts."""

    username = auth_forms.UsernameField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **auth_forms.AuthenticationForm.error_messages,
        "invalid_login": _("Wrong e-mail or password. Note that the password is case-sensitive."),
        "throttled": _(
            "Too many failed login attempts. For your safety, logging in is blocked for "
            "%(minutes)s minutes. Try again later, or reset your password."
        ),
    }

    def clean(self) -> dict[str, Any]:
        email = (self.cleaned_data.get("username") or "").strip()
        password = self.cleaned_data.get("password")
        ip = throttling.client_ip(self.request)
        if throttling.is_locked(email, ip):
            # Refuse before authenticate(): while locked, the password is not even checked.
            raise ValidationError(
                self.error_messages["throttled"],
                code="throttled",
                params={"minutes": max(1, -(-settings.LOGIN_LOCKOUT_SECONDS // 60))},
            )
        try:
            cleaned = super().clean()
        except ValidationError as error:
            if email and password and _has_code(error, "invalid_login"):
                throttling.register_failure(email, ip)
            raise
        throttling.clear(email)
        return cleaned


def _has_code(error: ValidationError, code: str) -> bool:
    return any(getattr(e, "code", None) == code for e in error.error_list)


class PasswordResetForm(auth_forms.PasswordResetForm):
    """Sends the reset link through core.mail (recipient's language, after commit)."""

    email = forms.EmailField(
        label=_("E-mail"),
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    def get_users(self, email: str) -> Any:
        # The accounts the login form would find for this address (Django's own lookup
        # compares the same way, but one function decides everywhere).
        return (
            user
            for user in users_with_email(email)
            if user.is_active and user.has_usable_password()
        )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        if not throttling.allow_password_reset_mail(to_email):
            logger.info("password reset mail held back: hourly allowance used")
            return
        send_templated_mail("emails/accounts/password_reset", context, to=to_email)


class InvitationSignUpForm(PasswordPairMixin, forms.Form):
    """A new account for an invited address: the e-mail is the invitation's, only a password."""

    password1, password2 = password_fields()

    def __init__(self, *args: Any, email: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict[str, Any]:
        super().clean()
        self._clean_password_pair(self.email)
        return self.cleaned_data


class InviteForm(forms.Form):
    email = AccountEmailField(
        label=_("E-mail"), max_length=150, widget=forms.EmailInput(attrs={"autofocus": True})
    )
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices, initial=Role.USER)

    def __init__(self, *args: Any, tenant: Tenant, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tenant = tenant

    def clean_email(self) -> str:
        email = self.cleaned_data["email"]
        if lookalike_of_an_account(email):
            raise ValidationError(lookalike_message(), code="lookalike")
        if is_member_email(self.tenant, email):
            raise ValidationError(
                _("%(email)s is already a member of this company."),
                code="member",
                params={"email": email},
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=Role.choices)
