"""A label's life, from the order page (or a batch) to the file on the order.

Written first, sent after: ``create_label`` writes the ``LabelJob`` (with the shipment input
and its command id) in one transaction and dispatches ``fulfillment.tasks.process_label`` on
commit; the beat sweeper re-dispatches jobs that are due, so a lost message only delays a label.

``advance`` (in the task, never in a transaction) takes a job one step as far as it can:

1. creating — when a command of this attempt may already have reached Allegro
   (``command_sent``), its status is read first; only a command Allegro does not know (404)
   is sent. ``command_sent`` is committed *before* the POST, so a worker killed between the
   POST and the status read leaves a job whose next run reads the status and finds the
   shipment: never a second one. IN_PROGRESS → try again after Allegro's ``Retry-After``;
   ERROR → the errors are kept and shown (a retry after a fix is a new attempt with a new id);
   SUCCESS → waiting.
2. waiting — the shipment is read until every parcel has its waybill, then the label file is
   fetched and stored under the tenant's folder, and ``finish`` records it all in one
   transaction holding the order's row: a ``Shipment`` per waybill (no shipment push: Wysyłam
   z Allegro attaches the waybill itself), the timeline entry, SENT through the push outbox
   when the channel passes shipment information, the courier account's status, and
   ``signals.label_generated``.
3. cancelling — the cancel command, sent and polled the same way.

Command ids are uuid5 of (tenant, job, attempt[, "cancel"]) — adr/0009.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    CommandStatus,
    create_cancel_command,
    create_shipment_command,
    get_cancel_command,
    get_label,
    get_shipment_command,
    get_wza_shipment,
)
from channels.services.api import on_behalf
from core.tasks import dispatch_after_commit
from fulfillment.models import CourierAccount, LabelJob, LabelState, Shipment
from fulfillment.services import push as push_service
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.explain import timeline_facts
from fulfillment.services.labels.inputs import (
    Parcel,
    build_input,
    default_parcel,
    label_text,
    limit_problems,
)
from fulfillment.services.labels.proposals import Proposal, refresh_proposal, stored_proposal
from fulfillment.services.labels.queries import OPEN, order_labels_changed
from fulfillment.signals import label_generated
from orders import events
from orders.changes import OrderStatusError, change_order_status
from orders.models import Order
from orders.search import add_tracking_number

NAMESPACE = uuid.UUID("6f1f3c2e-5d0a-4c7b-9a55-2b1e8d7c4a10")
# How often a shipment is read again while its waybills are still to come.
WAYBILL_POLL_SECONDS = 2.0
# Transient failures: the next try after this (then the sweeper).
TRANSIENT_RETRY_SECONDS = 10.0
EXTENSION = {"PDF": "pdf", "ZPL": "zpl"}


def command_id(tenant_id: int, job_id: int, attempt: int, what: str = "create") -> str:
    """The create (or cancel) command id of a job's attempt: the same on every retry of that
    attempt, different for the next one (Allegro refuses a reused id)."""
    return str(uuid.uuid5(NAMESPACE, f"apilo:label:{what}:{tenant_id}:{job_id}:{attempt}"))


@dataclass(frozen=True)
class Step:
    """What ``advance`` left: the job's state and, when it is still open, when to look again."""

    state: str
    retry_in: float | None = None


def _dispatch(job: LabelJob, countdown: float | None = None) -> None:
    dispatch_after_commit(
        "fulfillment.tasks.process_label", job.tenant_id, job.pk, countdown=countdown
    )


# --------------------------------------------------------------------------- writing
def create_label(
    order: Order,
    account: CourierAccount,
    *,
    parcels: Sequence[Parcel] | None,
    actor: User | None,
    proposal: Proposal | None = None,
    batch_id: int | None = None,
) -> LabelJob:
    """Write the label's job (and dispatch it). ``parcels`` None: the account's default
    parcel. With the order's delivery proposal at hand its limits are checked here and a
    LabelError names the first problem; without one (a batch) the task fetches it first."""
    if account.channel_id != order.channel_id:
        raise LabelError(_("This courier account belongs to another Allegro account."), "account")
    chosen = list(parcels) if parcels else [default_parcel(account, order)]
    proposal = proposal if proposal is not None else stored_proposal(order)
    shipment_input: dict[str, Any] = {}
    if proposal is not None:
        if proposal.unsupported:
            raise LabelError(
                _("Wysyłam z Allegro does not serve this order's delivery method."), None
            )
        shipment_input = build_input(order, account, proposal.suggested, chosen, label_text(order))
        found = limit_problems(chosen, proposal.option, shipment_input)
        if found:
            raise LabelError(found[0][1], found[0][0])
    with transaction.atomic():
        locked = Order.objects.select_for_update(of=("self",)).get(
            tenant_id=order.tenant_id, pk=order.pk
        )
        if LabelJob.objects.filter(
            tenant_id=locked.tenant_id, order=locked, state=LabelState.CREATING
        ).exists():
            raise LabelError(_("A label for this order is already being made."), None)
        job = LabelJob(
            tenant_id=locked.tenant_id,
            order=locked,
            channel_id=locked.channel_id,
            courier_account=account,
            batch_id=batch_id,
            shipment_input=shipment_input,
            # the real id needs the row's pk: a placeholder unique to this row until then
            command_id=str(uuid.uuid4()),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        job.save()
        job.command_id = command_id(job.tenant_id, job.pk, job.attempt)
        job.save(update_fields=["command_id"])
        _dispatch(job)
        transaction.on_commit(partial(order_labels_changed, job.tenant_id, job.order_id))
    return job


def retry_label(job: LabelJob, actor: User | None, parcels: Sequence[Parcel] | None = None) -> bool:
    """After an ERROR (and a fix of the account or the parcels): a new attempt with a new
    command id, the input built again from the account as it is now."""
    with transaction.atomic():
        locked = LabelJob.objects.select_for_update().get(tenant_id=job.tenant_id, pk=job.pk)
        if locked.state != LabelState.ERROR:
            return False
        account = CourierAccount.objects.get(
            tenant_id=locked.tenant_id, pk=locked.courier_account_id
        )
        previous = [Parcel.from_wire(p) for p in locked.shipment_input.get("packages") or []]
        chosen = list(parcels) if parcels else previous or [default_parcel(account)]
        order = Order.objects.select_related("channel").get(
            tenant_id=locked.tenant_id, pk=locked.order_id
        )
        proposal = stored_proposal(order)
        suggested = (
            proposal.suggested
            if proposal is not None and proposal.suggested
            else {
                k: locked.shipment_input[k]
                for k in ("receiver", "cashOnDelivery")
                if k in locked.shipment_input
            }
        )
        locked.shipment_input = build_input(order, account, suggested, chosen, label_text(order))
        locked.attempt += 1
        locked.command_id = command_id(locked.tenant_id, locked.pk, locked.attempt)
        locked.command_sent = False
        locked.errors = []
        locked.state = LabelState.CREATING
        locked.next_attempt_at = timezone.now()
        locked.finished_at = None
        locked.save()
        _dispatch(locked)
    return True


def cancel_label(job: LabelJob, actor: User | None) -> bool:
    """Ask Allegro to cancel the shipment of a made label."""
    with transaction.atomic():
        locked = LabelJob.objects.select_for_update().get(tenant_id=job.tenant_id, pk=job.pk)
        if locked.state not in (LabelState.READY, LabelState.WAITING) or not locked.wza_shipment_id:
            return False
        locked.state = LabelState.CANCELLING
        locked.cancel_command_id = command_id(locked.tenant_id, locked.pk, locked.attempt, "cancel")
        locked.command_sent = False
        locked.next_attempt_at = timezone.now()
        locked.save()
        _dispatch(locked)
    return True


# --------------------------------------------------------------------------- the task's work
def advance(tenant_id: int, job_id: int) -> Step:
    """Take the job as far as Allegro lets it now (outside any transaction)."""
    job = (
        LabelJob.objects.select_related("order", "order__channel", "courier_account")
        .filter(tenant_id=tenant_id, pk=job_id)
        .first()
    )
    if job is None or job.state not in OPEN:
        return Step(job.state if job else "")
    try:
        if job.state == LabelState.CREATING:
            return _creating(job)
        if job.state == LabelState.WAITING:
            return _waiting(job)
        return _cancelling(job)
    except AllegroRateLimited as exc:
        return _later(job, exc.retry_after)
    except AllegroAuthRevoked:
        # waits for the channel's authorization: the sweeper looks again
        return _later(job, 300.0)
    except AllegroPermanentError as exc:
        if job.state == LabelState.CREATING:
            _error(job, exc.errors or [{"userMessage": exc.user_message, "path": ""}])
            return Step(LabelState.ERROR)
        if job.state == LabelState.CANCELLING:
            _set(job, state=LabelState.READY, errors=exc.errors)
            return Step(LabelState.READY)
        return _later(job, TRANSIENT_RETRY_SECONDS)
    except AllegroError:
        return _later(job, TRANSIENT_RETRY_SECONDS)


def _count(job: LabelJob, n: int = 1) -> None:
    job.requests += n


def _set(job: LabelJob, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    fields["requests"] = job.requests
    LabelJob.objects.filter(tenant_id=job.tenant_id, pk=job.pk).update(**fields)


def _later(job: LabelJob, seconds: float) -> Step:
    _set(job, next_attempt_at=timezone.now() + timedelta(seconds=seconds))
    return Step(job.state, retry_in=seconds)


def _ensure_input(job: LabelJob) -> bool:
    """A batch's job gets its input here (its proposal fetched first). False: it cannot go."""
    if job.shipment_input:
        return True
    order = job.order
    proposal = stored_proposal(order)
    if proposal is None or not proposal.suggested:
        proposal = refresh_proposal(order)
        _count(job)
    if proposal.unsupported:
        _error(
            job,
            [
                {
                    "userMessage": _(
                        "Wysyłam z Allegro does not serve this order's delivery method."
                    ),
                    "path": "",
                    "ours": True,
                }
            ],
        )
        return False
    if proposal.problem and not proposal.suggested:
        raise_transient = AllegroError(proposal.problem)
        raise raise_transient
    parcels = [default_parcel(job.courier_account, order)]
    shipment_input = build_input(
        order, job.courier_account, proposal.suggested, parcels, label_text(order)
    )
    found = limit_problems(parcels, proposal.option, shipment_input)
    if found:
        job.shipment_input = shipment_input
        _error(
            job, [{"userMessage": message, "path": field, "ours": True} for field, message in found]
        )
        return False
    _set(job, shipment_input=shipment_input)
    return True


def _creating(job: LabelJob) -> Step:
    if not _ensure_input(job):
        return Step(LabelState.ERROR)
    status: CommandStatus | None = None
    if job.command_sent:
        status = on_behalf(job.channel, get_shipment_command, job.command_id)
        _count(job)
    if status is None:
        # committed before the POST: whatever happens next, the next run reads the status first
        _set(job, command_sent=True)
        wait = on_behalf(job.channel, create_shipment_command, job.command_id, job.shipment_input)
        _count(job)
        return _later(job, wait)
    if status.status == "IN_PROGRESS":
        return _later(job, status.retry_after)
    if status.status == "ERROR":
        _error(job, status.errors)
        return Step(LabelState.ERROR)
    _set(job, state=LabelState.WAITING, wza_shipment_id=status.result_id)
    return _waiting(job)


def _waiting(job: LabelJob) -> Step:
    shipment = on_behalf(job.channel, get_wza_shipment, job.wza_shipment_id)
    _count(job)
    if not shipment.waybills_ready:
        _set(job, carrier=shipment.carrier)
        return _later(job, WAYBILL_POLL_SECONDS)
    account = job.courier_account
    content: bytes | None = None
    if not job.batch_id:  # a batch's labels come in the batch's one file
        content = on_behalf(
            job.channel, get_label, [job.wza_shipment_id], page_size=account.page_size
        )
        _count(job)
    file_type = shipment.label_format if shipment.label_format in EXTENSION else "PDF"
    if content is not None:
        name = label_name(job, EXTENSION[file_type])
        job.file.save(name, ContentFile(content), save=False)
    finish(job, shipment.carrier, shipment.waybills, file_type if content is not None else "")
    return Step(LabelState.READY)


def label_name(job: LabelJob, extension: str) -> str:
    """Files live under the tenant's folder: ``<tenant>/orders/<order>/label-<job>-<try>``."""
    return f"{job.tenant_id}/orders/{job.order_id}/label-{job.pk}-{job.attempt}.{extension}"


def _cancelling(job: LabelJob) -> Step:
    status: CommandStatus | None = None
    if job.command_sent:
        status = on_behalf(job.channel, get_cancel_command, job.cancel_command_id)
        _count(job)
    if status is None:
        _set(job, command_sent=True)
        wait = on_behalf(
            job.channel, create_cancel_command, job.cancel_command_id, job.wza_shipment_id
        )
        _count(job)
        return _later(job, wait)
    if status.status == "IN_PROGRESS":
        return _later(job, status.retry_after)
    if status.status == "ERROR":
        _set(job, state=LabelState.READY, errors=status.errors)
        return Step(LabelState.READY)
    with transaction.atomic():
        _set(job, state=LabelState.CANCELLED, finished_at=timezone.now())
        events.record_label(
            job.order,
            outcome="cancelled",
            job_id=job.pk,
            actor=None,
            carrier=job.carrier,
            waybills=list(job.waybills),
        )
    return Step(LabelState.CANCELLED)


def _error(job: LabelJob, errors: list[dict[str, Any]]) -> None:
    kept = [
        {
            k: e.get(k)
            for k in ("code", "path", "userMessage", "message", "ours")
            if e.get(k) is not None
        }
        for e in errors
    ]
    with transaction.atomic():
        _set(
            job,
            state=LabelState.ERROR,
            errors=kept,
            shipment_input=job.shipment_input,
            finished_at=timezone.now(),
        )
        events.record_label(
            job.order,
            outcome="error",
            job_id=job.pk,
            actor=None,
            errors=timeline_facts(kept, job.shipment_input),
        )
    if job.batch_id:
        _dispatch_batch(job)


def _dispatch_batch(job: LabelJob) -> None:
    dispatch_after_commit("fulfillment.tasks.assemble_batch", job.tenant_id, job.batch_id)


def finish(job: LabelJob, carrier: str, waybills: list[str], file_type: str) -> None:
    """Record a made label with everything it causes, in one transaction holding the order."""
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",))
            .select_related("channel", "status")
            .get(tenant_id=job.tenant_id, pk=job.order_id)
        )
        fresh = LabelJob.objects.select_for_update().get(tenant_id=job.tenant_id, pk=job.pk)
        if fresh.state != LabelState.WAITING:
            return  # another run finished it
        first: Shipment | None = None
        for waybill in waybills:
            try:
                with transaction.atomic():
                    row = Shipment.objects.create(
                        tenant_id=order.tenant_id,
                        order=order,
                        channel_id=order.channel_id,
                        carrier_id=carrier,
                        carrier_name=carrier,
                        waybill=waybill,
                        comment=label_text(order),
                        external_id=job.wza_shipment_id,
                        created_by=job.created_by,
                    )
            except IntegrityError:
                row = Shipment.objects.get(
                    tenant_id=order.tenant_id, order=order, carrier_id=carrier, waybill=waybill
                )
            first = first or row
            add_tracking_number(order, waybill)
        _set(
            job,
            state=LabelState.READY,
            carrier=carrier,
            waybills=list(waybills),
            file=job.file.name or "",
            file_type=file_type,
            shipment=first,
            finished_at=timezone.now(),
        )
        passes = order.channel.pass_shipment_info
        events.record_label(
            order,
            outcome="made",
            job_id=job.pk,
            actor=job.created_by,
            carrier=carrier,
            waybills=list(waybills),
        )
        if passes and order.fulfillment_status != "SENT":
            push_service.queue_sent_push(order, job.created_by)
        target = job.courier_account.status_after_label
        if target is not None and target.pk != order.status_id:
            with contextlib.suppress(OrderStatusError):
                # SENT goes out above; the status's own mapping is not pushed on top of it
                change_order_status(order, target, job.created_by, tell_allegro=False)
        label_generated.send(
            sender=LabelJob,
            job=job,
            order=order,
            shipment=first,
            waybills=list(waybills),
            actor=job.created_by,
        )
        if job.batch_id:
            _dispatch_batch(job)


def open_jobs_due(limit: int = 500) -> list[tuple[int, int]]:
    """(tenant id, job id) of unfinished labels whose next look is due (the sweeper: a system
    query across tenants; each job's task enters its own tenant's scope)."""
    with scopes_disabled():
        return list(
            LabelJob.objects.filter(state__in=OPEN, next_attempt_at__lte=timezone.now())
            .order_by("next_attempt_at")
            .values_list("tenant_id", "pk")[:limit]
        )
