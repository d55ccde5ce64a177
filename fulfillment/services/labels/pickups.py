"""Courier pickups of label shipments (``CourierPickup``; REFERENCE §10, adr/0009).

Written first, sent after, as a label: ``start_pickup`` writes the row with the chosen labels'
shipments and dispatches ``fulfillment.tasks.propose_pickup`` on commit, which asks Allegro for
pickup windows (``POST /shipment-management/pickup-proposals``, the courier account's address)
and stores them. Staff choose one (``choose_window``: a new attempt with its derived command id)
and ``fulfillment.tasks.process_pickup`` sends ``pickups/create-commands`` and reads its status
until SUCCESS (the pickup and the carrier's number) or ERROR (Allegro's words kept and shown;
another window can be chosen). ``command_sent`` is committed before the POST, so a run that
finds it set reads the status first and sends only when Allegro never received the command:
one pickup, however often a worker dies. Nothing here runs in a request's transaction while
calling Allegro; the label sweeper re-dispatches rows that are due.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    create_pickup_command,
    get_pickup_command,
    get_pickup_proposals,
)
from channels.services.api import on_behalf
from core.tasks import dispatch_after_commit
from fulfillment.models import CourierAccount, CourierPickup, LabelJob, LabelState, PickupState
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.inputs import sender
from fulfillment.services.labels.jobs import NAMESPACE, TRANSIENT_RETRY_SECONDS, Step

MAX_SHIPMENTS = 100  # Allegro's limit of one pickup (pickup-proposals takes 1–100 ids)
OPEN = (PickupState.PROPOSING, PickupState.ORDERING)


def command_id(tenant_id: int, pickup_id: int, attempt: int) -> str:
    """The pickup command id of an attempt: the same on every run of it, new for the next."""
    return str(uuid.uuid5(NAMESPACE, f"apilo:pickup:create:{tenant_id}:{pickup_id}:{attempt}"))


def pickable_jobs(account: CourierAccount, limit: int = 200) -> list[LabelJob]:
    """The account's labels a courier can still collect (made, not cancelled), newest first."""
    return list(
        LabelJob.objects.filter(
            tenant_id=account.tenant_id, courier_account=account, state=LabelState.READY
        )
        .exclude(wza_shipment_id="")
        .select_related("order")
        .order_by("-id")[:limit]
    )


def pickup_address(account: CourierAccount) -> dict[str, Any]:
    address = sender(account)
    address.pop("point", None)  # removed from pickups in Nov 2025 (REFERENCE §10)
    return address


def start_pickup(
    account: CourierAccount, job_ids: Sequence[int], actor: User | None
) -> CourierPickup:
    """A pickup of the account's chosen labels; Allegro's windows are fetched by a task."""
    ids = sorted(set(job_ids))
    if not ids:
        raise LabelError(_("Select the shipments for the courier to collect."), field="jobs")
    if len(ids) > MAX_SHIPMENTS:
        raise LabelError(
            _("A courier collects at most %(max)d shipments at once.") % {"max": MAX_SHIPMENTS},
            field="jobs",
        )
    with transaction.atomic():
        found = list(
            LabelJob.objects.filter(
                tenant_id=account.tenant_id,
                courier_account=account,
                state=LabelState.READY,
                pk__in=ids,
            )
            .exclude(wza_shipment_id="")
            .order_by("id")
        )
        if len(found) != len(ids):
            raise LabelError(
                _("Some of these shipments were cancelled or belong to another courier account."),
                field="jobs",
            )
        pickup = CourierPickup.objects.create(
            tenant_id=account.tenant_id,
            courier_account=account,
            job_ids=[j.pk for j in found],
            wza_shipment_ids=[j.wza_shipment_id for j in found],
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        dispatch_after_commit("fulfillment.tasks.propose_pickup", pickup.tenant_id, pickup.pk)
    return pickup


def choose_window(pickup: CourierPickup, slot: int, actor: User | None) -> CourierPickup:
    """Order the pickup in one of Allegro's windows (again after an ERROR: a new attempt)."""
    with transaction.atomic():
        locked = CourierPickup.objects.select_for_update().get(
            tenant_id=pickup.tenant_id, pk=pickup.pk
        )
        if locked.state not in (PickupState.CHOOSING, PickupState.ERROR) or not locked.slots:
            raise LabelError(_("This pickup is already being ordered."), field="slot")
        if not 0 <= slot < len(locked.slots):
            raise LabelError(_("Choose one of the pickup times."), field="slot")
        locked.attempt += 1
        locked.command_id = command_id(locked.tenant_id, locked.pk, locked.attempt)
        locked.command_sent = False
        locked.pickup_time = locked.slots[slot]
        locked.state = PickupState.ORDERING
        locked.errors = []
        locked.next_attempt_at = timezone.now()
        locked.save()
        dispatch_after_commit("fulfillment.tasks.process_pickup", locked.tenant_id, locked.pk)
    return locked


# --------------------------------------------------------------------------- the tasks' work
def _set(pickup: CourierPickup, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(pickup, name, value)
    CourierPickup.objects.filter(tenant_id=pickup.tenant_id, pk=pickup.pk).update(**fields)


def _later(pickup: CourierPickup, seconds: float) -> Step:
    _set(pickup, next_attempt_at=timezone.now() + timedelta(seconds=seconds))
    return Step(pickup.state, retry_in=seconds)


def _load(tenant_id: int, pickup_id: int) -> CourierPickup | None:
    return (
        CourierPickup.objects.select_related("courier_account", "courier_account__channel")
        .filter(tenant_id=tenant_id, pk=pickup_id)
        .first()
    )


def _errors_of(exc: AllegroError) -> list[dict[str, Any]]:
    return exc.errors or [{"userMessage": exc.user_message or str(exc), "path": ""}]


def propose(tenant_id: int, pickup_id: int) -> Step:
    """Allegro's pickup windows for the pickup's shipments (outside any transaction)."""
    pickup = _load(tenant_id, pickup_id)
    if pickup is None or pickup.state != PickupState.PROPOSING:
        return Step(pickup.state if pickup else "")
    account = pickup.courier_account
    try:
        slots = on_behalf(
            account.channel,
            get_pickup_proposals,
            pickup.wza_shipment_ids,
            pickup_address(account),
        )
    except AllegroRateLimited as exc:
        return _later(pickup, exc.retry_after)
    except AllegroAuthRevoked:
        return _later(pickup, 300.0)  # waits for the channel's authorization
    except AllegroPermanentError as exc:
        _set(pickup, state=PickupState.ERROR, errors=_errors_of(exc))
        return Step(PickupState.ERROR)
    except AllegroError:
        return _later(pickup, TRANSIENT_RETRY_SECONDS)
    if not slots:
        message = _("Allegro offers no pickup time for these shipments.")
        _set(pickup, state=PickupState.ERROR, errors=[{"userMessage": message, "path": ""}])
        return Step(PickupState.ERROR)
    _set(pickup, state=PickupState.CHOOSING, slots=slots)
    return Step(PickupState.CHOOSING)


def advance(tenant_id: int, pickup_id: int) -> Step:
    """Send the pickup command (unless Allegro may have it already) and read its status."""
    pickup = _load(tenant_id, pickup_id)
    if pickup is None or pickup.state != PickupState.ORDERING:
        return Step(pickup.state if pickup else "")
    channel = pickup.courier_account.channel
    try:
        status = None
        if pickup.command_sent:
            status = on_behalf(channel, get_pickup_command, pickup.command_id)
        if status is None:
            # committed before the POST: a run after a lost answer reads the status first
            _set(pickup, command_sent=True)
            wait = on_behalf(
                channel,
                create_pickup_command,
                pickup.command_id,
                pickup.wza_shipment_ids,
                pickup.pickup_time,
                pickup_address(pickup.courier_account),
            )
            return _later(pickup, wait)
    except AllegroRateLimited as exc:
        return _later(pickup, exc.retry_after)
    except AllegroAuthRevoked:
        return _later(pickup, 300.0)
    except AllegroPermanentError as exc:
        _set(pickup, state=PickupState.ERROR, errors=_errors_of(exc))
        return Step(PickupState.ERROR)
    except AllegroError:
        return _later(pickup, TRANSIENT_RETRY_SECONDS)
    if status.status == "IN_PROGRESS":
        return _later(pickup, status.retry_after)
    if status.status == "ERROR":
        _set(pickup, state=PickupState.ERROR, errors=status.errors)
        return Step(PickupState.ERROR)
    _set(
        pickup,
        state=PickupState.ORDERED,
        pickup_id=status.result_id,
        carrier_pickup_id=str(status.extra.get("carrierPickupId") or ""),
    )
    return Step(PickupState.ORDERED)


def open_pickups_due(limit: int = 500) -> list[tuple[int, int, str]]:
    """(tenant id, pickup id, state) of unfinished pickups whose next look is due (the
    sweeper: a system query across tenants)."""
    with scopes_disabled():
        return list(
            CourierPickup.objects.filter(state__in=OPEN, next_attempt_at__lte=timezone.now())
            .order_by("next_attempt_at")
            .values_list("tenant_id", "pk", "state")[:limit]
        )
