"""Tenant-less account pages: sign-up, login, password reset, accepting an invitation.

Thin: forms validate, core.services writes.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from core import services, throttling
from core.emails import users_with_email
from core.errors import add_to_form, show_as_message
from core.forms import CompanyForm, InvitationSignUpForm, LoginForm, PasswordResetForm, SignUpForm

AUTH_BACKEND = "core.auth.EmailBackend"


class LoginView(auth_views.LoginView):
    form_class = LoginForm
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    form_class = PasswordResetForm
    # The mail is rendered from emails/accounts/password_reset*.txt by PasswordResetForm.

    @property
    def extra_email_context(self) -> dict[str, Any]:  # type: ignore[override]
        # Links in e-mails are absolute on SITE_URL, never on the request's Host header.
        return {"site_url": settings.SITE_URL}


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        throttling.clear(form.user.email)  # the owner proved it: lift a lockout of the account
        return response


@method_decorator(
    [sensitive_post_parameters("password1", "password2"), csrf_protect, never_cache],
    name="dispatch",
)
class SignUpView(View):
    """A visitor creates their account and company; a signed-in user creates another company."""

    template_name = "core/accounts/signup.html"

    def get_form_class(self) -> type[CompanyForm]:
        return CompanyForm if self.request.user.is_authenticated else SignUpForm

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.render(self.get_form_class()())

    def post(self, request: HttpRequest) -> HttpResponse:
        form = self.get_form_class()(request.POST)
        if not form.is_valid():
            return self.render(form)
        data = form.cleaned_data
        try:
            if request.user.is_authenticated:
                tenant = services.create_company(
                    user=request.user,
                    company_name=data["company_name"],
                    company_slug=data["company_slug"],
                )
            else:
                user, tenant = services.sign_up(
                    email=data["email"],
                    password=data["password1"],
                    company_name=data["company_name"],
                    company_slug=data["company_slug"],
                )
                auth_login(request, user, backend=AUTH_BACKEND)
        except services.AccountError as error:
            add_to_form(form, error)
            return self.render(form)
        messages.success(
            request, _("Welcome to apilo! Your company %(name)s is ready.") % {"name": tenant.name}
        )
        return redirect("tenant_home", tenant_slug=tenant.slug)

    def render(self, form: CompanyForm) -> HttpResponse:
        return render(self.request, self.template_name, {"form": form})


@method_decorator(
    [sensitive_post_parameters("password", "password1", "password2"), csrf_protect, never_cache],
    name="dispatch",
)
class AcceptInvitationView(View):
    """The page an invitation link opens.

    Signed in with the invited address → "Join"; signed in as someone else → log out first;
    not signed in → log in (the address has an account) or choose a password (it has none).
    """

    template_name = "core/accounts/invitation.html"
    invalid_template_name = "core/accounts/invitation_invalid.html"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.token = kwargs["token"]
        try:
            self.invitation = services.check_invitation(self.token)
        except services.InvitationError as error:
            return self.refuse(error)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest, token: str) -> HttpResponse:
        return self.render()

    def post(self, request: HttpRequest, token: str) -> HttpResponse:
        action = request.POST.get("action")
        try:
            if request.user.is_authenticated:
                services.accept_invitation(token=self.token, user=request.user)
                return self.joined()
            if action == "login":
                data = request.POST.copy()
                data["username"] = self.invitation.email  # the address is the invitation's
                login_form = LoginForm(request, data=data)
                if not login_form.is_valid():
                    return self.render(login_form=login_form)
                user = login_form.get_user()
                services.accept_invitation(token=self.token, user=user)
                auth_login(request, user, backend=AUTH_BACKEND)
                return self.joined()
            if action == "signup":
                signup_form = InvitationSignUpForm(request.POST, email=self.invitation.email)
                if not signup_form.is_valid():
                    return self.render(signup_form=signup_form)
                user, _membership = services.accept_invitation_with_new_account(
                    token=self.token, password=signup_form.cleaned_data["password1"]
                )
                auth_login(request, user, backend=AUTH_BACKEND)
                return self.joined()
        except services.InvitationError as error:
            return self.refuse(error)
        except services.EmailTaken as error:
            show_as_message(request, error)
        return redirect(request.path)

    def joined(self) -> HttpResponse:
        tenant = self.invitation.tenant
        messages.success(self.request, _("You have joined %(name)s.") % {"name": tenant.name})
        return redirect("tenant_home", tenant_slug=tenant.slug)

    def refuse(self, error: services.AccountError) -> HttpResponse:
        invitation = getattr(self, "invitation", None)
        return render(
            self.request,
            self.invalid_template_name,
            {"error": error.message, "invitation": invitation},
            status=400,
        )

    def render(
        self,
        *,
        login_form: LoginForm | None = None,
        signup_form: InvitationSignUpForm | None = None,
    ) -> HttpResponse:
        invitation = self.invitation
        user = self.request.user
        context: dict[str, Any] = {"invitation": invitation}
        if user.is_authenticated:
            same = services.normalize_email(user.email) == services.normalize_email(
                invitation.email
            )
            if same and services.is_member(user, invitation.tenant):
                return self.refuse(services.already_member_error(invitation))
            context["mode"] = "join" if same else "wrong_user"
        elif users_with_email(invitation.email):
            context["mode"] = "login"
            context["form"] = login_form or LoginForm(
                self.request, initial={"username": invitation.email}
            )
        else:
            context["mode"] = "signup"
            context["form"] = signup_form or InvitationSignUpForm(email=invitation.email)
        return render(self.request, self.template_name, context)
