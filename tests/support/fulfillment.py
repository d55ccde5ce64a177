"""Fulfillment objects for tests. ``push_of`` also builds the object of
OBJECT_BUILDERS["push_id"] (tests/factories.py) for the tenant-isolation test."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

from django.core.files.base import ContentFile
from django.utils import timezone
from django_scopes import scope

from core.models import Tenant
from fulfillment.models import (
    CourierAccount,
    CourierPickup,
    FulfillmentPush,
    HandoverProtocol,
    LabelBatch,
    LabelJob,
    LabelState,
    PickupState,
    ProtocolState,
    PushKind,
    PushState,
)
from tests.support.orders import order_of


def push_of(tenant: Tenant) -> FulfillmentPush:
    """A failed status push of an order of ``tenant``."""
    order = order_of(tenant)
    with scope(tenant=tenant):
        return FulfillmentPush.objects.create(
            tenant=tenant,
            order=order,
            channel_id=order.channel_id,
            kind=PushKind.STATUS,
            target_status="PROCESSING",
            state=PushState.FAILED,
            error_code="refused",
            next_attempt_at=timezone.now(),
        )


def courier_account_of(tenant: Tenant) -> CourierAccount:
    """A courier account of ``tenant`` on the channel of its order (OBJECT_BUILDERS)."""
    order = order_of(tenant)
    with scope(tenant=tenant):
        existing = CourierAccount.objects.filter(tenant=tenant).first()
        if existing is not None:
            return existing
        return CourierAccount.objects.create(
            tenant=tenant,
            channel_id=order.channel_id,
            name="Kurier",
            sender_name="Jan Sprzedawca",
            street="Główna 30",
            postal_code="60-166",
            city="Poznań",
            email="wysylki@example.com",
            phone="500600700",
            length_cm=Decimal(30),
            width_cm=Decimal(20),
            height_cm=Decimal(10),
            weight_kg=Decimal(1),
        )


def label_job_of(tenant: Tenant) -> LabelJob:
    """A made label of an order of ``tenant``, with its stored file."""
    account = courier_account_of(tenant)
    order = order_of(tenant)
    with scope(tenant=tenant):
        job = LabelJob.objects.create(
            tenant=tenant,
            order=order,
            channel_id=order.channel_id,
            courier_account=account,
            command_id=str(uuid.uuid4()),
            state=LabelState.READY,
            wza_shipment_id=str(uuid.uuid4()),
            waybills=["1000111222333"],
            carrier="DPD",
            file_type="PDF",
        )
        job.file.save(f"{tenant.pk}/orders/{order.pk}/label-{job.pk}-1.pdf", ContentFile(PDF))
        return job


def label_batch_of(tenant: Tenant) -> LabelBatch:
    """A batch of labels of ``tenant`` with its one file."""
    account = courier_account_of(tenant)
    with scope(tenant=tenant):
        batch = LabelBatch.objects.create(tenant=tenant, courier_account=account, file_type="PDF")
        batch.file.save(f"{tenant.pk}/batches/labels-{batch.pk}.pdf", ContentFile(PDF))
        batch.protocol_file.save(f"{tenant.pk}/batches/protocol-{batch.pk}.pdf", ContentFile(PDF))
        batch.protocol_state = "ready"
        batch.save(update_fields=["protocol_state"])
        return batch


def pickup_of(tenant: Tenant) -> CourierPickup:
    """A courier pickup of a label of ``tenant`` with Allegro's windows to choose from."""
    job = label_job_of(tenant)
    with scope(tenant=tenant):
        return CourierPickup.objects.create(
            tenant=tenant,
            courier_account_id=job.courier_account_id,
            state=PickupState.CHOOSING,
            job_ids=[job.pk],
            wza_shipment_ids=[job.wza_shipment_id],
            slots=[{"date": "2026-12-04", "minTime": "10:00", "maxTime": "16:00"}],
        )


def protocol_of(tenant: Tenant) -> HandoverProtocol:
    """A fetched handover protocol of a day's label of ``tenant``, with its file."""
    job = label_job_of(tenant)
    with scope(tenant=tenant):
        protocol = HandoverProtocol.objects.create(
            tenant=tenant,
            courier_account_id=job.courier_account_id,
            day=date(2026, 12, 2),
            state=ProtocolState.READY,
            wza_shipment_ids=[job.wza_shipment_id],
        )
        protocol.file.save(
            f"{tenant.pk}/protocols/protocol-2026-12-02-{protocol.pk}.pdf", ContentFile(PDF)
        )
        return protocol


PDF = b"%PDF-1.4\n% a label\n%%EOF\n"
