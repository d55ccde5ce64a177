"""The handover protocol of a day's labels (``HandoverProtocol``; ``POST
/shipment-management/protocol``, REFERENCE §10).

``request_day_protocol`` writes the row with the shipments of the labels the courier account
made that day (the day in the seller's time zone, cancelled ones left out) and dispatches
``fulfillment.tasks.fetch_day_protocol`` on commit; the task asks Allegro outside any
transaction and stores the PDF under ``<tenant id>/protocols/``. A carrier without protocols
(204) and Allegro's refusals are kept in words; a transient failure is left to the label
sweeper."""

from __future__ import annotations

from datetime import date, timedelta

from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    get_protocol,
)
from channels.services.api import on_behalf
from core.tasks import dispatch_after_commit
from fulfillment.models import CourierAccount, HandoverProtocol, LabelJob, LabelState, ProtocolState
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.jobs import TRANSIENT_RETRY_SECONDS


def day_shipment_ids(account: CourierAccount, day: date) -> list[str]:
    """Allegro's ids of the shipments of the account's labels made on ``day``, oldest first."""
    return list(
        LabelJob.objects.filter(
            tenant_id=account.tenant_id,
            courier_account=account,
            state=LabelState.READY,
            finished_at__date=day,
        )
        .exclude(wza_shipment_id="")
        .order_by("finished_at", "id")
        .values_list("wza_shipment_id", flat=True)
    )


def request_day_protocol(
    account: CourierAccount, day: date, actor: User | None
) -> HandoverProtocol:
    """Ask for the protocol of the account's labels of ``day`` (a task fetches it)."""
    with transaction.atomic():
        ids = day_shipment_ids(account, day)
        if not ids:
            raise LabelError(
                _("This courier account made no labels on %(day)s.") % {"day": day.isoformat()},
                field="day",
            )
        protocol = HandoverProtocol.objects.create(
            tenant_id=account.tenant_id,
            courier_account=account,
            day=day,
            wza_shipment_ids=ids,
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        dispatch_after_commit(
            "fulfillment.tasks.fetch_day_protocol", protocol.tenant_id, protocol.pk
        )
    return protocol


def file_name(protocol: HandoverProtocol) -> str:
    return f"{protocol.tenant_id}/protocols/protocol-{protocol.day.isoformat()}-{protocol.pk}.pdf"


def fetch(tenant_id: int, protocol_id: int) -> str:
    """Allegro's protocol for the row's shipments, stored; returns the state it left."""
    protocol = (
        HandoverProtocol.objects.select_related("courier_account", "courier_account__channel")
        .filter(tenant_id=tenant_id, pk=protocol_id)
        .first()
    )
    if protocol is None or protocol.state != ProtocolState.PENDING:
        return protocol.state if protocol else ""
    rows = HandoverProtocol.objects.filter(tenant_id=tenant_id, pk=protocol_id)
    try:
        content = on_behalf(
            protocol.courier_account.channel, get_protocol, protocol.wza_shipment_ids
        )
    except AllegroRateLimited as exc:
        rows.update(next_attempt_at=timezone.now() + timedelta(seconds=exc.retry_after))
        return ProtocolState.PENDING
    except AllegroAuthRevoked:
        rows.update(next_attempt_at=timezone.now() + timedelta(seconds=300))
        return ProtocolState.PENDING
    except AllegroPermanentError as exc:
        errors = exc.errors or [{"userMessage": exc.user_message or str(exc), "path": ""}]
        rows.update(state=ProtocolState.ERROR, errors=errors)
        return ProtocolState.ERROR
    except AllegroError:
        later = timezone.now() + timedelta(seconds=TRANSIENT_RETRY_SECONDS)
        rows.update(next_attempt_at=later)
        return ProtocolState.PENDING
    if content is None:
        rows.update(state=ProtocolState.NONE)
        return ProtocolState.NONE
    protocol.file.save(file_name(protocol), ContentFile(content), save=False)
    rows.update(file=protocol.file.name, state=ProtocolState.READY)
    return ProtocolState.READY


def pending_due(limit: int = 500) -> list[tuple[int, int]]:
    """(tenant id, protocol id) of protocols still to fetch whose next try is due (the
    sweeper: a system query across tenants)."""
    with scopes_disabled():
        return list(
            HandoverProtocol.objects.filter(
                state=ProtocolState.PENDING, next_attempt_at__lte=timezone.now()
            )
            .order_by("next_attempt_at")
            .values_list("tenant_id", "pk")[:limit]
        )
