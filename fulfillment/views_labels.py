"""Labels through Wysyłam z Allegro on the order page and the order list (any member of the
tenant). Thin: forms validate, services/labels/ write; no view calls Allegro (a task fetches the
delivery proposal, the label jobs run in tasks). Label files are the tenant's: they are looked
up through the tenant's rows (another tenant's id answers 404) and streamed, never linked."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from core.requests import TenantRequest
from core.tasks import dispatch_after_commit
from fulfillment.forms_labels import AccountChoiceForm, ParcelFormSet, parcel_initial
from fulfillment.models import (
    CourierAccount,
    CourierPickup,
    HandoverProtocol,
    LabelBatch,
    LabelJob,
    LabelState,
    ProtocolState,
)
from fulfillment.services.labels import batches, jobs, pickups, protocols
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.explain import explain
from fulfillment.services.labels.inputs import TEXT_ON_LABEL_MAX, default_parcel, label_text
from fulfillment.services.labels.proposals import stored_proposal
from fulfillment.services.labels.queries import panel_context
from orders.models import Order

CONTENT_TYPES = {"PDF": "application/pdf", "ZPL": "text/plain; charset=utf-8"}


def _order(request: TenantRequest, order_id: int) -> Order:
    return get_object_or_404(
        Order.objects.select_related("channel", "status"), tenant=request.tenant, pk=order_id
    )


def _order_url(request: TenantRequest, order: Order | int) -> str:
    pk = order if isinstance(order, int) else order.pk
    return reverse("orders:detail", kwargs={"tenant_slug": request.tenant.slug, "order_id": pk})


@require_http_methods(["GET", "POST"])
def label_page(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    accounts = list(
        CourierAccount.objects.filter(tenant=request.tenant, channel_id=order.channel_id)
    )
    proposal = stored_proposal(order)
    if proposal is None and request.method == "GET":
        dispatch_after_commit(
            "fulfillment.tasks.refresh_delivery_proposal", order.tenant_id, order.pk
        )
    account_form = AccountChoiceForm(
        request.POST if request.method == "POST" else None,
        tenant=request.tenant,
        channel_ids=[order.channel_id],
        initial={"courier_account": accounts[0].pk} if accounts else None,
    )
    initial = [parcel_initial(default_parcel(accounts[0], order))] if accounts else []
    parcels = ParcelFormSet(
        request.POST if request.method == "POST" else None, initial=initial, prefix="parcel"
    )
    if request.method == "POST" and account_form.is_valid() and parcels.is_valid():
        try:
            job = jobs.create_label(
                order,
                account_form.cleaned_data["courier_account"],
                parcels=[form.parcel() for form in parcels],
                actor=request.user,
                proposal=proposal,
            )
        except LabelError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(
                request, _("The label is being made; its tracking number appears here shortly.")
            )
            return redirect(_order_url(request, job.order_id) + "#labels")
    return render(
        request,
        "fulfillment/labels/label.html",
        {
            "order": order,
            "accounts": accounts,
            "account_form": account_form,
            "parcels": parcels,
            "proposal": proposal,
            "text_preview": label_text(order),
            "text_max": TEXT_ON_LABEL_MAX,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
def refresh_proposal(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    order = _order(request, order_id)
    dispatch_after_commit("fulfillment.tasks.refresh_delivery_proposal", order.tenant_id, order.pk)
    return redirect("fulfillment:label", tenant_slug=request.tenant.slug, order_id=order.pk)


@require_GET
def label_panel(request: TenantRequest, tenant_slug: str, order_id: int) -> HttpResponse:
    """The order page's labels, again (htmx polls it while a label is being made)."""
    order = _order(request, order_id)
    return render(request, "fulfillment/labels/_panel.html", panel_context(order))


def _file_response(field: object, file_type: str, name: str) -> FileResponse:
    if not getattr(field, "name", ""):
        raise Http404
    response = FileResponse(
        field.open("rb"),  # type: ignore[attr-defined]
        content_type=CONTENT_TYPES.get(file_type, "application/octet-stream"),
        as_attachment=file_type != "PDF",  # a PDF opens in the browser, to print
        filename=name,
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def label_file(request: TenantRequest, tenant_slug: str, job_id: int) -> FileResponse:
    job = get_object_or_404(
        LabelJob.objects.select_related("order"), tenant=request.tenant, pk=job_id
    )
    ext = "zpl" if job.file_type == "ZPL" else "pdf"
    return _file_response(job.file, job.file_type, f"label-{job.order.number}.{ext}")


@require_POST
def label_cancel(request: TenantRequest, tenant_slug: str, job_id: int) -> HttpResponse:
    job = get_object_or_404(LabelJob, tenant=request.tenant, pk=job_id)
    if jobs.cancel_label(job, request.user):
        messages.success(request, _("Allegro is asked to cancel the shipment."))
    return redirect(_order_url(request, job.order_id) + "#labels")


@require_POST
def label_retry(request: TenantRequest, tenant_slug: str, job_id: int) -> HttpResponse:
    job = get_object_or_404(LabelJob, tenant=request.tenant, pk=job_id)
    if jobs.retry_label(job, request.user):
        messages.success(request, _("The label is being made again."))
    return redirect(_order_url(request, job.order_id) + "#labels")


@require_POST
def bulk_labels(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """From the order list: the chosen orders, a courier account to choose, then the batch."""
    ids = [int(i) for i in request.POST.getlist("order_ids") if i.isdigit()]
    orders = list(
        Order.objects.filter(tenant=request.tenant, pk__in=ids)
        .select_related("channel")
        .order_by("pk")
    )
    form = AccountChoiceForm(
        request.POST if "courier_account" in request.POST else None,
        tenant=request.tenant,
        channel_ids=sorted({o.channel_id for o in orders}),
    )
    if orders and form.is_valid():
        account = form.cleaned_data["courier_account"]
        chosen = [o for o in orders if o.channel_id == account.channel_id]
        batch, skipped = batches.create_batch(chosen, account, request.user)
        left_out = len(orders) - len(chosen) + len(skipped)
        if left_out:
            messages.warning(
                request,
                ngettext(
                    "%(count)d order was left out: another Allegro account, or a label "
                    "already being made.",
                    "%(count)d orders were left out: another Allegro account, or a label "
                    "already being made.",
                    left_out,
                )
                % {"count": left_out},
            )
        return redirect(
            "fulfillment:label_batch", tenant_slug=request.tenant.slug, batch_id=batch.pk
        )
    if not orders:
        messages.error(request, _("Select the orders to make labels for."))
        return redirect("orders:list", tenant_slug=request.tenant.slug)
    return render(request, "fulfillment/labels/bulk.html", {"orders": orders, "form": form})


@require_GET
def label_batch(request: TenantRequest, tenant_slug: str, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch, tenant=request.tenant, pk=batch_id)
    batch_jobs = list(
        LabelJob.objects.filter(tenant=request.tenant, batch=batch)
        .select_related("order")
        .order_by("id")
    )
    counts = {state: sum(1 for j in batch_jobs if j.state == state) for state in LabelState.values}
    template = (
        "fulfillment/labels/_batch.html"
        if request.headers.get("HX-Request")
        else "fulfillment/labels/batch.html"
    )
    return render(
        request,
        template,
        {
            "batch": batch,
            "batch_jobs": [(job, explain(job.errors, job.shipment_input)) for job in batch_jobs],
            "counts": counts,
            "open": any(j.state in jobs.OPEN for j in batch_jobs)
            or (not batch.file and not batch.finished_at)
            or batch.protocol_state == "pending",
        },
    )


@require_POST
def batch_protocol(request: TenantRequest, tenant_slug: str, batch_id: int) -> HttpResponse:
    batch = get_object_or_404(LabelBatch, tenant=request.tenant, pk=batch_id)
    if batches.request_protocol(batch):
        messages.success(request, _("The handover protocol is being fetched from Allegro."))
    return redirect("fulfillment:label_batch", tenant_slug=request.tenant.slug, batch_id=batch.pk)


@require_GET
def batch_protocol_file(request: TenantRequest, tenant_slug: str, batch_id: int) -> FileResponse:
    batch = get_object_or_404(LabelBatch, tenant=request.tenant, pk=batch_id)
    return _file_response(batch.protocol_file, "PDF", f"protocol-{batch.pk}.pdf")


@require_GET
def batch_file(request: TenantRequest, tenant_slug: str, batch_id: int) -> FileResponse:
    batch = get_object_or_404(LabelBatch, tenant=request.tenant, pk=batch_id)
    ext = "zpl" if batch.file_type == "ZPL" else "pdf"
    return _file_response(batch.file, batch.file_type, f"labels-{batch.pk}.{ext}")


# --------------------------------------------------------------------------- courier pickups
@require_http_methods(["GET", "POST"])
def new_pickup(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Choose a courier account's labels for a courier to collect."""
    accounts = list(CourierAccount.objects.filter(tenant=request.tenant).order_by("name"))
    raw = request.POST.get("courier_account") or request.GET.get("account") or ""
    account = next((a for a in accounts if str(a.pk) == raw), accounts[0] if accounts else None)
    if raw and (account is None or str(account.pk) != raw):
        raise Http404
    error = None
    if request.method == "POST" and account is not None:
        ids = [int(i) for i in request.POST.getlist("job_ids") if i.isdigit()]
        try:
            pickup = pickups.start_pickup(account, ids, request.user)
        except LabelError as exc:
            error = exc.message
        else:
            return redirect(
                "fulfillment:pickup", tenant_slug=request.tenant.slug, pickup_id=pickup.pk
            )
    return render(
        request,
        "fulfillment/labels/pickup_new.html",
        {
            "accounts": accounts,
            "account": account,
            "label_jobs": pickups.pickable_jobs(account) if account else [],
            "error": error,
        },
        status=400 if error else 200,
    )


@require_GET
def pickup_page(request: TenantRequest, tenant_slug: str, pickup_id: int) -> HttpResponse:
    pickup = get_object_or_404(
        CourierPickup.objects.select_related("courier_account"), tenant=request.tenant, pk=pickup_id
    )
    template = (
        "fulfillment/labels/_pickup.html"
        if request.headers.get("HX-Request")
        else "fulfillment/labels/pickup.html"
    )
    return render(request, template, _pickup_context(pickup))


def _pickup_context(pickup: CourierPickup, error: str | None = None) -> dict[str, object]:
    return {
        "pickup": pickup,
        "waybills": [
            w
            for job in LabelJob.objects.filter(
                tenant_id=pickup.tenant_id, pk__in=pickup.job_ids
            ).order_by("id")
            for w in job.waybills
        ],
        "problems": explain(pickup.errors, {}),
        "open": pickup.state in pickups.OPEN,
        "error": error,
    }


@require_POST
def pickup_order(request: TenantRequest, tenant_slug: str, pickup_id: int) -> HttpResponse:
    pickup = get_object_or_404(CourierPickup, tenant=request.tenant, pk=pickup_id)
    raw = request.POST.get("slot", "")
    try:
        pickups.choose_window(pickup, int(raw) if raw.isdigit() else -1, request.user)
    except LabelError as exc:
        pickup.refresh_from_db()
        return render(
            request,
            "fulfillment/labels/pickup.html",
            _pickup_context(pickup, exc.message),
            status=400,
        )
    messages.success(request, _("The courier pickup is being ordered."))
    return redirect("fulfillment:pickup", tenant_slug=request.tenant.slug, pickup_id=pickup.pk)


# --------------------------------------------------------------------------- a day's protocol
@require_http_methods(["GET", "POST"])
def day_protocols(request: TenantRequest, tenant_slug: str) -> HttpResponse:
    """Choose a day and a courier account: the handover protocol of that day's labels."""
    accounts = list(CourierAccount.objects.filter(tenant=request.tenant).order_by("name"))
    error = None
    raw_day = request.POST.get("day", "")
    if request.method == "POST":
        account = next(
            (a for a in accounts if str(a.pk) == request.POST.get("courier_account")), None
        )
        if account is None:
            raise Http404
        try:
            day = date.fromisoformat(raw_day)
        except ValueError:
            error = _("Choose a day.")
        else:
            try:
                protocols.request_day_protocol(account, day, request.user)
            except LabelError as exc:
                error = exc.message
            else:
                messages.success(request, _("The handover protocol is being fetched from Allegro."))
                return redirect("fulfillment:day_protocols", tenant_slug=request.tenant.slug)
    recent = list(
        HandoverProtocol.objects.filter(tenant=request.tenant)
        .select_related("courier_account")
        .order_by("-id")[:30]
    )
    context = {
        "accounts": accounts,
        "chosen_account": request.POST.get("courier_account", ""),
        "day": raw_day or timezone.localdate().isoformat(),
        "protocols": [(p, explain(p.errors, {})) for p in recent],
        "open": any(p.state == ProtocolState.PENDING for p in recent),
        "error": error,
    }
    template = (
        "fulfillment/labels/_protocols.html"
        if request.headers.get("HX-Request")
        else "fulfillment/labels/protocols.html"
    )
    return render(request, template, context, status=400 if error else 200)


@require_GET
def day_protocol_file(request: TenantRequest, tenant_slug: str, protocol_id: int) -> FileResponse:
    protocol = get_object_or_404(HandoverProtocol, tenant=request.tenant, pk=protocol_id)
    return _file_response(protocol.file, "PDF", f"protocol-{protocol.day.isoformat()}.pdf")
