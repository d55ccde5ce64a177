"""Administracja → Statusy zamówień: the tenant's own order statuses.

TenantMiddleware has already resolved the tenant, checked the administrator role and entered the
tenant's scope, so OrderStatus.objects only sees this tenant's rows: another tenant's status id
answers 404 exactly like a missing one. Every change goes through orders.statuses.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from core.errors import add_to_form, show_as_message
from core.requests import TenantRequest
from orders import queries, statuses
from orders.forms_statuses import StatusForm
from orders.models import OrderStatus

LIST = "administration:statuses:list"


def _get_status(status_id: int) -> OrderStatus:
    return get_object_or_404(OrderStatus.objects, pk=status_id)


def _posted(request: TenantRequest) -> QueryDict | None:
    """The submitted data of a POST (even an empty one, which must fail validation), else None."""
    return request.POST if request.method == "POST" else None


def _back_to_list(tenant_slug: str) -> HttpResponse:
    return redirect(LIST, tenant_slug=tenant_slug)


@require_http_methods(["GET"])
def status_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    # With each status's order count: the page offers only the actions the rules allow.
    listed = queries.statuses_with_counts(request.tenant)
    return render(request, "orders/administration/status_list.html", {"statuses": listed})


@require_http_methods(["GET", "POST"])
def status_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = StatusForm(_posted(request), tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            status = statuses.create_status(request.tenant, **form.cleaned_data)
        except statuses.StatusError as error:
            add_to_form(form, error)
        else:
            messages.success(request, _("Status “%(name)s” added.") % {"name": status.name})
            return _back_to_list(tenant_slug)
    return render(request, "orders/administration/status_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def status_edit(request: TenantRequest, tenant_slug: str, status_id: int) -> HttpResponse:
    status = _get_status(status_id)
    heading = status.name  # the form writes what was typed onto the instance while it checks
    form = StatusForm(_posted(request), instance=status, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            status = statuses.update_status(status, **form.cleaned_data)
        except statuses.StatusError as error:
            add_to_form(form, error)
        except OrderStatus.DoesNotExist as gone:
            raise Http404("No such status.") from gone
        else:
            messages.success(request, _("Status “%(name)s” saved.") % {"name": status.name})
            return _back_to_list(tenant_slug)
    return render(
        request,
        "orders/administration/status_form.html",
        {"form": form, "status": status, "heading": heading},
    )


def _run(request: TenantRequest, action: Callable[[], OrderStatus], success: str) -> None:
    """Run a service call; show `success` or the reason the rules refused it."""
    try:
        status = action()
    except statuses.StatusError as error:
        show_as_message(request, error)
    except OrderStatus.DoesNotExist as gone:
        raise Http404("No such status.") from gone
    else:
        messages.success(request, success % {"name": status.name})


@require_POST
def status_delete(request: TenantRequest, tenant_slug: str, status_id: int) -> HttpResponse:
    status = _get_status(status_id)

    def delete() -> OrderStatus:
        statuses.delete_status(status)
        return status

    _run(request, delete, _("Status “%(name)s” deleted."))
    return _back_to_list(tenant_slug)


@require_POST
def status_deactivate(request: TenantRequest, tenant_slug: str, status_id: int) -> HttpResponse:
    status = _get_status(status_id)
    _run(
        request,
        lambda: statuses.set_status_active(status, False),
        _("Status “%(name)s” is no longer offered for orders."),
    )
    return _back_to_list(tenant_slug)


@require_POST
def status_activate(request: TenantRequest, tenant_slug: str, status_id: int) -> HttpResponse:
    status = _get_status(status_id)
    _run(
        request,
        lambda: statuses.set_status_active(status, True),
        _("Status “%(name)s” is offered for orders again."),
    )
    return _back_to_list(tenant_slug)


@require_POST
def status_move(request: TenantRequest, tenant_slug: str, status_id: int) -> HttpResponse:
    status = _get_status(status_id)
    try:
        direction = statuses.MoveDirection(request.POST.get("direction", ""))
    except ValueError:
        return HttpResponseBadRequest(_("Move a status up or down."))
    try:
        statuses.move_status(status, direction)
    except OrderStatus.DoesNotExist as gone:
        raise Http404("No such status.") from gone
    return _back_to_list(tenant_slug)
