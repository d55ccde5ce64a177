"""Administracja → Szablony wiadomości (namespace administration:templates), and the customer
zone's public page (`/o/<token>`).

The administration pages run in the tenant's scope (TenantMiddleware, administrators only), so
another tenant's set or template answers 404 like a missing one. Every write goes through
notifications.template_sets (or notifications.previews for the test mail).
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_scopes import scope

from channels.models import SalesChannel
from core.requests import TenantRequest
from core.variables import Context, variables_for
from notifications import customer_zone, previews, template_sets
from notifications.forms_templates import CopySetForm, MessageTemplateForm, TemplateSetForm
from notifications.models import FORBIDDEN_ON_ALLEGRO, Category, MessageTemplate, TemplateSet
from notifications.zone_page import zone_context

LIST = "administration:templates:list"


def _posted(request: TenantRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _set(set_id: int) -> TemplateSet:
    return get_object_or_404(TemplateSet.objects, pk=set_id)


def _template(template_set: TemplateSet, template_id: int) -> MessageTemplate:
    return get_object_or_404(
        MessageTemplate.objects.select_related("status"), pk=template_id, template_set=template_set
    )


def _to_set(tenant_slug: str, template_set: TemplateSet) -> HttpResponse:
    return redirect("administration:templates:set", tenant_slug=tenant_slug, set_id=template_set.pk)


@require_GET
def set_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    sets = TemplateSet.objects.order_by("name", "id")
    channels = SalesChannel.objects.filter(template_set__isnull=False).select_related(
        "template_set"
    )
    used: dict[int, list[SalesChannel]] = {}
    for channel in channels:
        used.setdefault(channel.template_set_id or 0, []).append(channel)
    rows = [(s, used.get(s.pk, []), s.templates.count()) for s in sets]
    return render(
        request,
        "notifications/set_list.html",
        {"rows": rows, "form": TemplateSetForm(), "forbidden": _forbidden_labels()},
    )


def _forbidden_labels() -> list[str]:
    return [str(label) for value, label in Category.choices if value in FORBIDDEN_ON_ALLEGRO]


@require_http_methods(["GET", "POST"])
def set_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = TemplateSetForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            created = template_sets.create_set(request.tenant, **form.cleaned_data)
        except template_sets.TemplateError as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field, message)
        else:
            messages.success(request, _("Template set “%(name)s” added.") % {"name": created.name})
            return _to_set(tenant_slug, created)
    return render(request, "notifications/set_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def set_detail(request: TenantRequest, tenant_slug: str, set_id: int) -> HttpResponse:
    template_set = _set(set_id)
    heading = template_set.name
    form = TemplateSetForm(_posted(request), instance=template_set)
    if request.method == "POST" and form.is_valid():
        try:
            template_sets.update_set(template_set, **form.cleaned_data)
        except template_sets.TemplateError as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field, message)
        else:
            messages.success(request, _("Template set saved."))
            return _to_set(tenant_slug, template_set)
    templates = template_set.templates.select_related("status").order_by("name", "id")
    return render(
        request,
        "notifications/set_detail.html",
        {
            "template_set": template_set,
            "heading": heading,
            "form": form,
            "templates": templates,
            "copy_form": CopySetForm(initial={"name": template_sets.copy_name(template_set)}),
            "channels": SalesChannel.objects.filter(template_set=template_set),
        },
    )


@require_POST
def set_copy(request: TenantRequest, tenant_slug: str, set_id: int) -> HttpResponse:
    template_set = _set(set_id)
    form = CopySetForm(request.POST)
    if form.is_valid():
        try:
            copy = template_sets.copy_set(template_set, name=form.cleaned_data["name"])
        except template_sets.TemplateError as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Copied as “%(name)s”.") % {"name": copy.name})
            return _to_set(tenant_slug, copy)
    else:
        messages.error(request, _("Give the copy a name."))
    return _to_set(tenant_slug, template_set)


@require_POST
def set_delete(request: TenantRequest, tenant_slug: str, set_id: int) -> HttpResponse:
    template_set = _set(set_id)
    template_sets.delete_set(template_set)
    messages.success(request, _("Template set “%(name)s” deleted.") % {"name": template_set.name})
    return redirect(LIST, tenant_slug=tenant_slug)


def _editor(
    request: TenantRequest,
    template_set: TemplateSet,
    form: MessageTemplateForm,
    template: MessageTemplate | None,
) -> HttpResponse:
    orders = previews.orders_to_preview(request.tenant)
    return render(
        request,
        "notifications/template_form.html",
        {
            "template_set": template_set,
            "template": template,
            "form": form,
            "variables": variables_for(Context.ORDER_MESSAGE),
            "orders": orders,
            "forbidden": _forbidden_labels(),
        },
    )


def _save(
    request: TenantRequest,
    tenant_slug: str,
    template_set: TemplateSet,
    template: MessageTemplate | None,
) -> HttpResponse:
    form = MessageTemplateForm(_posted(request), instance=template, tenant=request.tenant)
    if request.method == "POST" and form.is_valid():
        try:
            saved = template_sets.save_template(template_set, form.template_data(), template)
        except template_sets.TemplateError as error:
            for field, errors in error.errors.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
            return _to_set(tenant_slug, template_set)
    return _editor(request, template_set, form, template)


@require_http_methods(["GET", "POST"])
def template_create(request: TenantRequest, tenant_slug: str, set_id: int) -> HttpResponse:
    return _save(request, tenant_slug, _set(set_id), None)


@require_http_methods(["GET", "POST"])
def template_edit(
    request: TenantRequest, tenant_slug: str, set_id: int, template_id: int
) -> HttpResponse:
    template_set = _set(set_id)
    return _save(request, tenant_slug, template_set, _template(template_set, template_id))


@require_POST
def template_delete(
    request: TenantRequest, tenant_slug: str, set_id: int, template_id: int
) -> HttpResponse:
    template_set = _set(set_id)
    template = _template(template_set, template_id)
    template_sets.delete_template(template)
    messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
    return _to_set(tenant_slug, template_set)


@require_POST
def preview(request: TenantRequest, tenant_slug: str, set_id: int) -> HttpResponse:
    """The editor's live preview (htmx): the posted fields rendered on one real order."""
    template_set = _set(set_id)
    result = previews.preview(
        request.tenant,
        template_set,
        subject=request.POST.get("subject", ""),
        body_text=request.POST.get("body_text", ""),
        body_html=request.POST.get("body_html", ""),
        order_id=request.POST.get("preview_order", ""),
    )
    return render(request, "notifications/_preview.html", {"preview": result})


@require_POST
def send_test(request: TenantRequest, tenant_slug: str, set_id: int) -> HttpResponse:
    """ "Send test to me": the posted fields on the chosen order, to the logged-in user."""
    template_set = _set(set_id)
    try:
        mail = previews.send_test(
            request.tenant,
            template_set,
            request.user,
            subject=request.POST.get("subject", ""),
            body_text=request.POST.get("body_text", ""),
            body_html=request.POST.get("body_html", ""),
            order_id=request.POST.get("preview_order", ""),
        )
    except previews.PreviewError as error:
        return render(request, "notifications/_test_sent.html", {"error": error.message})
    return render(request, "notifications/_test_sent.html", {"mail": mail})


@require_POST
def channel_categories(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    """Allow or withdraw a category Allegro forbids on one channel (the channel page's card)."""
    channel = get_object_or_404(SalesChannel.objects, pk=channel_id)
    category = request.POST.get("category", "")
    if category not in FORBIDDEN_ON_ALLEGRO:
        raise Http404("No such category.")
    label = Category(category).label
    if request.POST.get("action") == "withdraw":
        template_sets.withdraw_category(channel, category)
        messages.success(
            request, _("“%(category)s” mails are held back again.") % {"category": label}
        )
    elif request.POST.get("understood") != "yes":
        messages.error(
            request,
            _("Tick that you have read why Allegro forbids it before allowing “%(category)s”.")
            % {"category": label},
        )
    else:
        try:
            template_sets.allow_category(channel, category, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(
                request,
                _("“%(category)s” mails are now sent to this channel's buyers.")
                % {"category": label},
            )
    return redirect(
        "administration:channels:detail", tenant_slug=tenant_slug, channel_id=channel.pk
    )


# --- The customer zone ----------------------------------------------------------------------


@never_cache
@require_GET
def customer_zone_page(request: HttpRequest, token: str) -> HttpResponse:
    """The buyer's page of one order. Any wrong token is the same plain 404."""
    order = customer_zone.order_for_token(token)
    if order is None:
        raise Http404("No such page.")
    chosen = request.GET.get("lang", "")
    language = chosen if chosen in ("pl", "en") else customer_zone.language_of(order)
    with scope(tenant=order.tenant), translation.override(language):
        context = zone_context(order, language)
        response = render(request, "notifications/customer_zone.html", context)
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response
