"""Labels of many orders at once (the order list's bulk action), printed from one file.

``create_batch`` writes a ``LabelBatch`` and a job per order (each fetches its own delivery
proposal in its task); as each job ends, ``assemble`` checks whether all have, and then fetches
one label file for every made shipment (``POST /shipment-management/label`` takes many ids)
and stores it on the batch."""

from __future__ import annotations

from collections.abc import Sequence

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from channels.clients.allegro import AllegroError, get_label, get_protocol
from channels.services.api import on_behalf
from core.tasks import dispatch_after_commit
from fulfillment.models import CourierAccount, LabelBatch, LabelJob, LabelState
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.jobs import OPEN, create_label
from orders.models import Order

EXTENSION = {"PDF": "pdf", "ZPL": "zpl"}


def create_batch(
    orders: Sequence[Order], account: CourierAccount, actor: User | None
) -> tuple[LabelBatch, list[tuple[Order, str]]]:
    """A batch for the orders of the account's channel; returns it and the orders left out
    with the reason (another channel, a label already being made)."""
    skipped: list[tuple[Order, str]] = []
    with transaction.atomic():
        batch = LabelBatch.objects.create(
            tenant_id=account.tenant_id,
            courier_account=account,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        for order in orders:
            try:
                with transaction.atomic():
                    create_label(
                        order, account, parcels=None, actor=actor, batch_id=batch.pk, proposal=None
                    )
            except LabelError as exc:
                skipped.append((order, exc.message))
    return batch, skipped


def assemble(tenant_id: int, batch_id: int) -> bool:
    """Once every job of the batch has ended, one file for all its labels (outside any
    transaction). True when the batch has its file now."""
    batch = LabelBatch.objects.filter(tenant_id=tenant_id, pk=batch_id).first()
    if batch is None or batch.file:
        return bool(batch and batch.file)
    jobs = list(LabelJob.objects.filter(tenant_id=tenant_id, batch_id=batch_id).order_by("id"))
    if any(j.state in OPEN for j in jobs):
        return False
    made = [j for j in jobs if j.state == LabelState.READY and j.wza_shipment_id]
    if not made:
        LabelBatch.objects.filter(tenant_id=tenant_id, pk=batch_id).update(
            finished_at=timezone.now()
        )
        return False
    account = CourierAccount.objects.select_related("channel").get(
        tenant_id=tenant_id, pk=batch.courier_account_id
    )
    content = on_behalf(
        account.channel,
        get_label,
        [j.wza_shipment_id for j in made],
        page_size=account.page_size,
    )
    if content is None:
        return False
    file_type = account.label_format
    name = f"{tenant_id}/batches/labels-{batch_id}.{EXTENSION.get(file_type, 'pdf')}"
    batch.file.save(name, ContentFile(content), save=False)
    # two jobs ending together may both assemble: the first stored file stands
    LabelBatch.objects.filter(tenant_id=tenant_id, pk=batch_id, file="").update(
        file=batch.file.name, file_type=file_type, finished_at=timezone.now()
    )
    return True


def request_protocol(batch: LabelBatch) -> bool:
    """Ask for the batch's handover protocol (a task fetches it). False: nothing to hand over."""
    with transaction.atomic():
        locked = LabelBatch.objects.select_for_update().get(tenant_id=batch.tenant_id, pk=batch.pk)
        if not LabelJob.objects.filter(
            tenant_id=locked.tenant_id, batch=locked, state=LabelState.READY
        ).exists():
            return False
        locked.protocol_state = "pending"
        locked.save(update_fields=["protocol_state"])
        dispatch_after_commit("fulfillment.tasks.fetch_protocol", locked.tenant_id, locked.pk)
    return True


def fetch_protocol(tenant_id: int, batch_id: int) -> str:
    """The handover protocol of the batch's made shipments (``POST
    /shipment-management/protocol``), stored beside its labels; outside any transaction."""
    batch = LabelBatch.objects.filter(tenant_id=tenant_id, pk=batch_id).first()
    if batch is None or batch.protocol_state != "pending":
        return batch.protocol_state if batch else ""
    ids = list(
        LabelJob.objects.filter(tenant_id=tenant_id, batch_id=batch_id, state=LabelState.READY)
        .order_by("id")
        .values_list("wza_shipment_id", flat=True)
    )
    account = CourierAccount.objects.select_related("channel").get(
        tenant_id=tenant_id, pk=batch.courier_account_id
    )
    try:
        content = on_behalf(account.channel, get_protocol, ids)
    except AllegroError:
        return "pending"  # asked again from the page
    if content is None:
        LabelBatch.objects.filter(tenant_id=tenant_id, pk=batch_id).update(protocol_state="none")
        return "none"
    batch.protocol_file.save(
        f"{tenant_id}/batches/protocol-{batch_id}.pdf", ContentFile(content), save=False
    )
    LabelBatch.objects.filter(tenant_id=tenant_id, pk=batch_id).update(
        protocol_file=batch.protocol_file.name, protocol_state="ready"
    )
    return "ready"
