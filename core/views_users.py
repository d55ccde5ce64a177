"""Administracja → Użytkownicy: members and their roles, invitations.

The tenant middleware has already resolved request.tenant and refused non-administrators (403).
Membership is not a scoped model, so every lookup here filters by request.tenant explicitly:
another tenant's id answers 404 like a missing one.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core import services
from core.errors import add_to_form, show_as_message
from core.forms import InviteForm, RoleForm
from core.models import Invitation, Membership, Role
from core.requests import TenantRequest


def _back_to_list(tenant_slug: str) -> HttpResponse:
    return redirect("administration:users:list", tenant_slug=tenant_slug)


def _membership(request: TenantRequest, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user", "tenant"),
        pk=membership_id,
        tenant=request.tenant,
    )


def _pending_invitation(request: TenantRequest, invitation_id: int) -> Invitation:
    return get_object_or_404(
        Invitation.objects.select_related("tenant"),
        pk=invitation_id,
        tenant=request.tenant,
        accepted_at__isnull=True,
    )


@require_http_methods(["GET"])
def user_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    members = (
        Membership.objects.filter(tenant=request.tenant)
        .select_related("user")
        .order_by("user__email", "pk")
    )
    expiry = timezone.now() - timedelta(seconds=settings.INVITATION_MAX_AGE)
    invitations = (
        Invitation.objects.filter(tenant=request.tenant, accepted_at__isnull=True)
        .select_related("invited_by")
        .order_by("email", "pk")
    )
    return render(
        request,
        "core/users/list.html",
        {
            "members": members,
            "invitations": [(i, i.created_at < expiry) for i in invitations],
            "roles": Role.choices,
            "administrator_count": sum(1 for m in members if m.is_administrator),
        },
    )


@require_http_methods(["GET", "POST"])
def invite(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = InviteForm(request.POST or None, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = services.invite_member(
                tenant=request.tenant,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
                invited_by=request.user,
            )
        except services.AccountError as error:
            add_to_form(form, error)
        else:
            messages.success(
                request,
                _("Invitation sent to %(email)s.") % {"email": invitation.email},
            )
            return _back_to_list(tenant_slug)
    return render(request, "core/users/invite.html", {"form": form})


@require_POST
def change_role(request: TenantRequest, tenant_slug: str, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a role."))
        return _back_to_list(tenant_slug)
    try:
        services.change_role(membership=membership, role=form.cleaned_data["role"])
    except services.AccountError as error:
        show_as_message(request, error)
        return _back_to_list(tenant_slug)
    messages.success(
        request,
        _("%(email)s is now: %(role)s.")
        % {"email": membership.user.email, "role": membership.get_role_display()},
    )
    if membership.user_id == request.user.pk and not membership.is_administrator:
        # You just gave up Administracja: the users page would answer 403.
        return redirect("tenant_home", tenant_slug=tenant_slug)
    return _back_to_list(tenant_slug)


@require_http_methods(["GET", "POST"])
def remove(request: TenantRequest, tenant_slug: str, membership_id: int) -> HttpResponse:
    membership = _membership(request, membership_id)
    if request.method == "GET":
        return render(request, "core/users/remove_confirm.html", {"member": membership})
    try:
        services.remove_member(membership=membership)
    except services.AccountError as error:
        show_as_message(request, error)
        return _back_to_list(tenant_slug)
    if membership.user_id == request.user.pk:
        messages.success(request, _("You have left %(name)s.") % {"name": request.tenant.name})
        return redirect("home")
    messages.success(
        request,
        _("%(email)s no longer has access to this company.") % {"email": membership.user.email},
    )
    return _back_to_list(tenant_slug)


@require_POST
def revoke_invitation(request: TenantRequest, tenant_slug: str, invitation_id: int) -> HttpResponse:
    invitation = _pending_invitation(request, invitation_id)
    try:
        services.revoke_invitation(invitation=invitation)
    except services.AccountError as error:
        show_as_message(request, error)
    else:
        messages.success(
            request,
            _("The invitation of %(email)s was withdrawn; its link no longer works.")
            % {"email": invitation.email},
        )
    return _back_to_list(tenant_slug)
