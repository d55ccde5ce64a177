"""Administracja → Skrzynki pocztowe (mailboxes) and Wysłane wiadomości (the send log).

TenantMiddleware has resolved the tenant, checked the administrator role and entered the
tenant's scope: another tenant's mailbox or mail answers 404 like a missing one. Every change
goes through notifications.mailboxes."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from channels.models import SalesChannel
from core.requests import TenantRequest
from notifications import mailboxes, queries, registration
from notifications.forms import MailboxForm, MailLogFilterForm, TestMailForm
from notifications.models import Mailbox, MailState, OutgoingMail
from notifications.reasons import hold_reason_text, server_answer

LIST = "administration:mailboxes:list"
WAITING = [MailState.QUEUED, MailState.RETRY_WAIT, MailState.SENDING]


def _posted(request: TenantRequest) -> QueryDict | None:
    return request.POST if request.method == "POST" else None


def _mailbox(mailbox_id: int) -> Mailbox:
    return get_object_or_404(Mailbox.objects, pk=mailbox_id)


@require_http_methods(["GET"])
def mailbox_list(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    listed = Mailbox.objects.annotate(channel_count=Count("channels", distinct=True))
    waiting = dict(
        OutgoingMail.objects.filter(state__in=WAITING, mailbox__isnull=False)
        .values_list("mailbox_id")
        .annotate(n=Count("id"))
        .values_list("mailbox_id", "n")
    )
    rows = [(box, waiting.get(box.pk, 0)) for box in listed]
    return render(request, "notifications/mailbox_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
def mailbox_create(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    form = MailboxForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "password"}
        try:
            box = mailboxes.create_mailbox(
                request.tenant, password=form.cleaned_data["password"], **values
            )
        except mailboxes.MailboxError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, _("Mailbox “%(name)s” added.") % {"name": box.name})
            return redirect("administration:mailboxes:edit", tenant_slug, box.pk)
    return render(request, "notifications/mailbox_form.html", {"form": form})


@require_http_methods(["GET", "POST"])
def mailbox_edit(request: TenantRequest, tenant_slug: str, mailbox_id: int) -> HttpResponse:
    box = _mailbox(mailbox_id)
    heading = box.name
    form = MailboxForm(_posted(request), instance=box)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "password"}
        try:
            box = mailboxes.update_mailbox(box, password=form.cleaned_data["password"], **values)
        except mailboxes.MailboxError as error:
            form.add_error(error.field, error.message)
        else:
            messages.success(request, _("Mailbox “%(name)s” saved.") % {"name": box.name})
            return redirect(LIST, tenant_slug)
    test_form = TestMailForm(initial={"to": request.user.email})
    return render(
        request,
        "notifications/mailbox_form.html",
        {"form": form, "mailbox": box, "heading": heading, "test_form": test_form},
    )


@require_POST
def mailbox_test(request: TenantRequest, tenant_slug: str, mailbox_id: int) -> HttpResponse:
    box = _mailbox(mailbox_id)
    test_form = TestMailForm(request.POST)
    result = None
    if test_form.is_valid():
        row = mailboxes.send_test(
            box, to=test_form.cleaned_data["to"], language=translation.get_language() or ""
        )
        result = {
            "row": row,
            "answer": server_answer(row),
            "hold": hold_reason_text(row.hold_reason),
        }
    return render(
        request,
        "notifications/mailbox_form.html",
        {
            "form": MailboxForm(instance=box),
            "mailbox": box,
            "heading": box.name,
            "test_form": test_form,
            "test_result": result,
        },
    )


@require_http_methods(["GET", "POST"])
def mailbox_delete(request: TenantRequest, tenant_slug: str, mailbox_id: int) -> HttpResponse:
    box = _mailbox(mailbox_id)
    if request.method == "POST":
        try:
            held = mailboxes.delete_mailbox(box)
        except mailboxes.MailboxError as error:
            messages.error(request, error.message)
            return redirect("administration:mailboxes:delete", tenant_slug, box.pk)
        text = _("Mailbox “%(name)s” deleted.") % {"name": box.name}
        if held:
            text += " " + ngettext(
                "%(count)s e-mail that waited to be sent from it is held back.",
                "%(count)s e-mails that waited to be sent from it are held back.",
                held,
            ) % {"count": held}
        messages.success(request, text)
        return redirect(LIST, tenant_slug)
    waiting = OutgoingMail.objects.filter(mailbox=box, state__in=WAITING).count()
    return render(
        request,
        "notifications/mailbox_delete.html",
        {"mailbox": box, "channels": mailboxes.channels_using(box), "waiting": waiting},
    )


@require_http_methods(["GET"])
def mail_log(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    boxes = list(Mailbox.objects.all())
    form = MailLogFilterForm(request.GET or None, mailboxes=boxes)
    filters = form.cleaned_data if form.is_valid() else {}
    before = request.GET.get("before", "")
    page = queries.mail_log(
        state=filters.get("state", ""),
        mailbox=filters.get("mailbox", ""),
        order_number=filters.get("order", ""),
        to=filters.get("to", ""),
        before=int(before) if before.isdigit() else None,
    )
    rows = [
        {
            "mail": row,
            "answer": server_answer(row),
            "hold": hold_reason_text(row.hold_reason) if row.hold_reason else "",
        }
        for row in page.rows
    ]
    query = request.GET.copy()
    query.pop("before", None)
    return render(
        request,
        "notifications/mail_log.html",
        {
            "form": form,
            "rows": rows,
            "next_before": page.next_before,
            "query": query.urlencode(),
            "filtered": any(filters.values()) if filters else False,
        },
    )


@require_http_methods(["GET"])
def mail_detail(request: TenantRequest, tenant_slug: str, mail_id: int) -> HttpResponse:
    row = get_object_or_404(OutgoingMail.objects.select_related("order"), pk=mail_id)
    return render(
        request,
        "notifications/mail_detail.html",
        {
            "mail": row,
            "answer": server_answer(row),
            "hold": hold_reason_text(row.hold_reason) if row.hold_reason else "",
        },
    )


@require_POST
def register_sender(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    """ "Register this address in Allegro" on the channel page: a task calls Allegro."""
    channel = get_object_or_404(SalesChannel.objects, pk=channel_id)
    registration.request_registration(channel)
    messages.info(
        request,
        _("The address is being registered in Allegro; reload the page in a moment to see it."),
    )
    return redirect("administration:channels:detail", tenant_slug, channel.pk)


@require_POST
def refresh_senders(request: TenantRequest, tenant_slug: str, channel_id: int) -> HttpResponse:
    channel = get_object_or_404(SalesChannel.objects, pk=channel_id)
    registration.request_refresh(channel)
    messages.info(
        request, _("Allegro is being asked; reload the page in a moment to see its answer.")
    )
    return redirect("administration:channels:detail", tenant_slug, channel.pk)
