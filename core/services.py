"""Business operations on tenants and memberships. Views call these; they never write directly.

Errors a user can fix are raised as AccountError subclasses carrying a translated message (and,
for form fields, the field's name); every function here writes all or nothing.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from core.emails import canonical_email, email_in_use, users_with_email
from core.mail import send_templated_mail
from core.models import Invitation, Membership, Role, Tenant
from core.signals import tenant_created

INVITATION_SALT = "apilo.invitation"


class AccountError(Exception):
    """A refusal the user can understand; `field` names the form field it belongs to, if any."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class SlugTaken(AccountError):
    pass


class EmailTaken(AccountError):
    pass


class InvitationError(AccountError):
    pass


class LastAdministratorError(AccountError):
    pass


def normalize_email(email: str) -> str:
    return canonical_email(email)


def email_registered(email: str) -> bool:
    return email_in_use(email)


def slug_taken_message() -> str:
    return _("This address is already taken. Choose another one.")


def email_taken_message() -> str:
    return _(
        "An account with this e-mail address already exists. Log in, or reset your password "
        "if you forgot it."
    )


# --- Tenants and sign-up ---------------------------------------------------------------------


@transaction.atomic
def create_tenant(*, name: str, slug: str, owner: User) -> Tenant:
    """A new seller company with its owner as administrator; the apps above add what a company
    starts with (the default statuses) through core.signals.tenant_created."""
    tenant = Tenant.objects.create(name=name.strip(), slug=slug)
    Membership.objects.create(tenant=tenant, user=owner, role=Role.ADMINISTRATOR)
    tenant_created.send(sender=Tenant, tenant=tenant)
    return tenant


def _create_user(email: str, password: str) -> Any:
    email = normalize_email(email)
    return get_user_model().objects.create_user(username=email, email=email, password=password)


def _classify_integrity_error(*, email: str | None, slug: str | None) -> AccountError | None:
    """After a unique-constraint race, say which value someone else took first."""
    if slug is not None and Tenant.objects.filter(slug=slug).exists():
        return SlugTaken(slug_taken_message(), field="company_slug")
    if email is not None and email_registered(email):
        return EmailTaken(email_taken_message(), field="email")
    return None


def sign_up(
    *, email: str, password: str, company_name: str, company_slug: str
) -> tuple[Any, Tenant]:
    """A visitor's new user and company in one transaction, then a welcome e-mail.

    The form has checked everything already; a concurrent sign-up that takes the same address
    or e-mail first surfaces here as SlugTaken / EmailTaken, with nothing saved.
    """
    try:
        with transaction.atomic():
            user = _create_user(email, password)
            tenant = create_tenant(name=company_name, slug=company_slug, owner=user)
            _send_welcome(user, tenant)
    except IntegrityError:
        error = _classify_integrity_error(email=email, slug=company_slug)
        if error is None:
            raise
        raise error from None
    return user, tenant


def create_company(*, user: Any, company_name: str, company_slug: str) -> Tenant:
    """A signed-in user's additional company, with them as its administrator."""
    try:
        with transaction.atomic():
            tenant = create_tenant(name=company_name, slug=company_slug, owner=user)
    except IntegrityError:
        error = _classify_integrity_error(email=None, slug=company_slug)
        if error is None:
            raise
        raise error from None
    return tenant


def _send_welcome(user: Any, tenant: Tenant) -> None:
    send_templated_mail(
        "emails/accounts/welcome",
        {
            "user": user,
            "tenant": tenant,
            "tenant_url": settings.SITE_URL + reverse("tenant_home", args=[tenant.slug]),
            "login_url": settings.SITE_URL + reverse("login"),
        },
        to=user.email,
        tenant=tenant,
    )


# --- Invitations -----------------------------------------------------------------------------


def invitation_token(invitation: Invitation) -> str:
    """The signed, timestamped token of an invitation link (expires after INVITATION_MAX_AGE)."""
    signer = signing.TimestampSigner(salt=INVITATION_SALT)
    return signer.sign_object({"id": invitation.pk, "nonce": invitation.nonce})


def invitation_url(invitation: Invitation) -> str:
    return settings.SITE_URL + reverse(
        "accept_invitation", kwargs={"token": invitation_token(invitation)}
    )


def invite_member(*, tenant: Tenant, email: str, role: str, invited_by: Any) -> Invitation:
    """Invite an e-mail address to the tenant with a role and e-mail them the link.

    A pending invitation of the same address is replaced: its link stops working.
    """
    email = normalize_email(email)
    if role not in Role.values:
        raise AccountError(_("Choose a role."), field="role")
    with scope(tenant=tenant), transaction.atomic():
        # Serialize invitations of one tenant so two concurrent re-invitations leave one row.
        Tenant.objects.select_for_update().filter(pk=tenant.pk).first()
        if lookalike_of_an_account(email):
            raise AccountError(lookalike_message(), field="email")
        if is_member_email(tenant, email):
            raise AccountError(
                _("%(email)s is already a member of this company.") % {"email": email},
                field="email",
            )
        pending = Invitation.objects.filter(
            tenant=tenant, email__iexact=email, accepted_at__isnull=True
        )
        Invitation.objects.filter(
            pk__in=[i.pk for i in pending if canonical_email(i.email) == email]
        ).delete()
        invitation = Invitation.objects.create(
            tenant=tenant,
            email=email,
            role=role,
            nonce=secrets.token_urlsafe(32),
            invited_by=invited_by,
        )
        send_templated_mail(
            "emails/accounts/invitation",
            {
                "invitation": invitation,
                "tenant": tenant,
                "inviter": invited_by,
                "role": invitation.get_role_display(),
                "accept_url": invitation_url(invitation),
                "valid_days": max(1, settings.INVITATION_MAX_AGE // 86400),
            },
            to=email,
            tenant=tenant,
        )
    return invitation


def revoke_invitation(*, invitation: Invitation) -> None:
    """Withdraw a pending invitation: its link stops working."""
    with scope(tenant=invitation.tenant), transaction.atomic():
        deleted, _rows = Invitation.objects.filter(
            pk=invitation.pk, tenant=invitation.tenant, accepted_at__isnull=True
        ).delete()
    if not deleted:
        raise InvitationError(_("This invitation was already accepted or withdrawn."))


def check_invitation(token: str, *, lock: bool = False) -> Invitation:
    """The pending invitation a token names, or InvitationError saying why it cannot be used."""
    try:
        payload = signing.TimestampSigner(salt=INVITATION_SALT).unsign_object(
            token, max_age=settings.INVITATION_MAX_AGE
        )
    except signing.SignatureExpired:
        raise InvitationError(
            _("This invitation has expired. Ask the administrator to invite you again.")
        ) from None
    except (signing.BadSignature, ValueError, TypeError):
        raise InvitationError(
            _("This invitation link is not valid. Check that you copied the whole link.")
        ) from None
    invitation_id = payload.get("id") if isinstance(payload, dict) else None
    if not isinstance(invitation_id, int):  # we sign {"id": <int>, "nonce": …}: not ours
        raise InvitationError(_("This invitation link is not valid."))
    with scopes_disabled():  # the token names the tenant; the visitor has no scope yet
        invitations = Invitation.objects.select_related("tenant")
        if lock:
            invitations = invitations.select_for_update(of=("self",))
        invitation = invitations.filter(
            pk=invitation_id, nonce=str(payload.get("nonce", ""))
        ).first()
    if invitation is None:
        raise InvitationError(
            _(
                "This invitation is no longer valid: it was withdrawn or replaced by a newer "
                "one. Use the link from the latest invitation e-mail."
            )
        )
    if invitation.accepted_at is not None:
        raise InvitationError(_("This invitation has already been used."))
    return invitation


def already_member_error(invitation: Invitation) -> InvitationError:
    return InvitationError(
        _("You are already a member of %(company)s.") % {"company": invitation.tenant.name}
    )


def is_member_email(tenant: Tenant, email: str) -> bool:
    """Whether an account with this address (in its canonical form) is a member of the tenant."""
    users = users_with_email(email)
    return bool(users) and Membership.objects.filter(tenant=tenant, user__in=users).exists()


def lookalike_of_an_account(email: str) -> bool:
    """Whether no account has this address but one has an address the database folds
    together with it (admın@… beside admin@…): such an address could never get an account."""
    return not users_with_email(email) and email_in_use(email)


def lookalike_message() -> str:
    return _(
        "An account has an address that differs from this one only by look-alike characters. "
        "Check the address and type it again."
    )


def is_member(user: Any, tenant: Tenant) -> bool:
    return Membership.objects.filter(tenant=tenant, user=user).exists()


def accept_invitation(*, token: str, user: Any) -> Membership:
    """The invited user joins the tenant with the invitation's role; the link is used up."""
    with transaction.atomic():
        invitation = check_invitation(token, lock=True)
        if normalize_email(user.email) != normalize_email(invitation.email):
            raise InvitationError(
                _("This invitation is for %(invited)s, but you are logged in as %(current)s.")
                % {"invited": invitation.email, "current": user.email}
            )
        if is_member(user, invitation.tenant):
            raise already_member_error(invitation)
        membership = Membership.objects.create(
            tenant=invitation.tenant, user=user, role=invitation.role
        )
        with scope(tenant=invitation.tenant):
            invitation.accepted_at = timezone.now()
            invitation.accepted_by = user
            invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


def accept_invitation_with_new_account(*, token: str, password: str) -> tuple[Any, Membership]:
    """A new account for the invited address, joined to the tenant, in one transaction."""
    try:
        with transaction.atomic():
            invitation = check_invitation(token)
            if email_registered(invitation.email):
                raise EmailTaken(
                    _("An account with this e-mail address already exists. Log in instead.")
                )
            user = _create_user(invitation.email, password)
            membership = accept_invitation(token=token, user=user)
    except IntegrityError:
        raise EmailTaken(
            _("An account with this e-mail address already exists. Log in instead.")
        ) from None
    return user, membership


# --- Members and roles -----------------------------------------------------------------------


def _lock_administrators(tenant_id: int) -> list[Membership]:
    """Lock the tenant's administrator memberships (ordered by pk) and return them.

    Two transactions that each demote or remove one of two administrators queue here; the
    second one re-reads after the first commits and sees only one administrator left.
    """
    return list(
        Membership.objects.select_for_update()
        .filter(tenant_id=tenant_id, role=Role.ADMINISTRATOR)
        .order_by("pk")
    )


def _last_administrator_error() -> LastAdministratorError:
    return LastAdministratorError(
        _("A company needs at least one administrator. Make someone else an administrator first.")
    )


def change_role(*, membership: Membership, role: str) -> Membership:
    """Give a member another role; the last administrator cannot be demoted."""
    if role not in Role.values:
        raise AccountError(_("Choose a role."), field="role")
    with transaction.atomic():
        administrators = _lock_administrators(membership.tenant_id)
        current = (
            Membership.objects.select_for_update()
            .filter(pk=membership.pk, tenant_id=membership.tenant_id)
            .first()
        )
        if current is None:
            raise AccountError(_("This person is no longer a member of the company."))
        if (
            current.role == Role.ADMINISTRATOR
            and role != Role.ADMINISTRATOR
            and len(administrators) <= 1
        ):
            raise _last_administrator_error()
        if current.role != role:
            current.role = role
            current.save(update_fields=["role"])
    membership.role = current.role
    return current


def remove_member(*, membership: Membership) -> None:
    """Take a member out of the company; the last administrator cannot be removed."""
    with transaction.atomic():
        administrators = _lock_administrators(membership.tenant_id)
        current = (
            Membership.objects.select_for_update()
            .filter(pk=membership.pk, tenant_id=membership.tenant_id)
            .first()
        )
        if current is None:
            raise AccountError(_("This person is no longer a member of the company."))
        if current.role == Role.ADMINISTRATOR and len(administrators) <= 1:
            raise _last_administrator_error()
        current.delete()
