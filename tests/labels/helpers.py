"""What the label tests (and bench/labels.py) share: a courier account, running a label's
job as its task would, reading label PDFs."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pypdf
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from fulfillment.models import CourierAccount, LabelJob
from fulfillment.services.labels.accounts import save_courier_account
from fulfillment.services.labels.jobs import advance
from fulfillment.services.labels.proposals import refresh_proposal
from orders.models import Order

SENDER = {
    "name": "Sklep Alfa",
    "sender_name": "Jan Sprzedawca",
    "sender_company": "Alfa sp. z o.o.",
    "street": "Główna 30",
    "postal_code": "60-166",
    "city": "Poznań",
    "country_code": "PL",
    "email": "wysylki@alfa.example",
    "phone": "500600700",
    "package_type": "PACKAGE",
    "length_cm": Decimal("30"),
    "width_cm": Decimal("20"),
    "height_cm": Decimal("10"),
    "weight_kg": Decimal("1.5"),
    "label_format": "PDF",
    "page_size": "A6",
    "cod_owner": "Alfa sp. z o.o.",
    "cod_iban": "PL61 1090 1014 0000 0712 1981 2874",
}


def courier_account(channel: SalesChannel, **changes: Any) -> CourierAccount:
    with scope(tenant=channel.tenant):
        return save_courier_account(channel.tenant, {**SENDER, "channel": channel, **changes})


def proposal_for(order: Order):
    """What the proposal task does for the label page."""
    with scope(tenant=order.tenant):
        return refresh_proposal(Order.objects.select_related("channel").get(pk=order.pk))


def run(job: LabelJob, max_steps: int = 20) -> LabelJob:
    """Advance the job as its task would until it ends (the sandbox's commands take no time
    unless a test set command_seconds)."""
    for _ in range(max_steps):
        with scope(tenant=job.tenant):
            step = advance(job.tenant_id, job.pk)
        if step.retry_in is None:
            break
    return fresh(job)


def fresh(job: LabelJob) -> LabelJob:
    with scopes_disabled():
        return LabelJob.objects.select_related("order").get(pk=job.pk)


def pdf_pages(content: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]
