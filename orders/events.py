"""The order timeline: the one module that writes `OrderEvent` rows and says what they mean.

Writing. One typed function per kind of entry builds it (unsaved), so the facts each kind keeps
in `data` are spelled out in one place; `record()` saves one entry and `record_all()` writes
many with one INSERT (the import, bulk changes and the push sender gather their entries and
write them together, which keeps their query counts flat). For the kinds written one at a time
there are `record_…` shortcuts. Nothing else builds or saves entries (a test reads the source
tree for it). Callers work inside their own transaction; entries are written in it.

    record_status_change(order, previous, new, actor, source)      # one entry, one INSERT
    record_all([imported(order, at), status_change(...), ...])     # one INSERT for the batch

Describing. `describe(event)` is the sentence the order page shows, in the active language
(`OrderEvent.describe()` calls it). The words of the orders' own kinds are here; they need
only Allegro's status names (channels.allegro_names). The push and shipment entries are
described by the fulfillment app, which registers its describer for those kinds at start-up
(`register_describer`, in FulfillmentConfig.ready): their sentences name push outcomes and
explain failures with the push's own reason texts (fulfillment.services.push.reason_text), and
orders sits below fulfillment and must not import it. Moving those words down here would mean
moving fulfillment's error vocabulary into orders; a registry of one function per kind keeps
each app's words with the app. An unregistered kind reads as its stored message or its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import allegro_names
from orders.models import Order, OrderEvent, OrderEventKind, OrderStatus

Describer = Callable[[OrderEvent], str]


# --------------------------------------------------------------------------- writing
def record(entry: OrderEvent) -> OrderEvent:
    """Save one entry (through the model, so the tenant guard of TenantOwnedModel applies)."""
    entry.save()
    return entry


def record_all(entries: Iterable[OrderEvent]) -> None:
    """Write the entries with one INSERT; nothing at all when there are none.

    bulk_create skips TenantOwnedModel.save(): every builder takes the tenant from the order."""
    entries = list(entries)
    if entries:
        OrderEvent.objects.bulk_create(entries)


def _entry(
    order: Order | None,
    kind: str,
    data: dict[str, Any],
    at: dt.datetime | None,
    *,
    actor: User | None = None,
    tenant_id: int | None = None,
    order_id: int | None = None,
) -> OrderEvent:
    where: dict[str, Any] = (
        {"tenant_id": order.tenant_id, "order": order}  # the object: a new order's pk comes later
        if order is not None
        else {"tenant_id": tenant_id, "order_id": order_id}
    )
    return OrderEvent(
        **where,
        kind=kind,
        data=data,
        actor=actor,
        created_at=at if at is not None else timezone.now(),
    )


def status_change(
    order: Order,
    previous: OrderStatus | None,
    new: OrderStatus,
    actor: User | None,
    source: str,
) -> OrderEvent:
    """Our status changed (by staff, or by the import: `source`, a ChangeSource). The names are
    kept as they are now, so a renamed status does not rewrite history."""
    return _entry(
        order,
        OrderEventKind.STATUS_CHANGED,
        {
            "from_id": previous.pk if previous else None,
            "from_name": previous.name if previous else None,
            "to_id": new.pk,
            "to_name": new.name,
            "source": str(source),
        },
        None,
        actor=actor,
    )


def record_status_change(
    order: Order,
    previous: OrderStatus | None,
    new: OrderStatus,
    actor: User | None,
    source: str,
) -> OrderEvent:
    return record(status_change(order, previous, new, actor, source))


def imported(order: Order, at: dt.datetime) -> OrderEvent:
    """A new order from Allegro: its number, Allegro's status and ours, how many parse warnings."""
    return _entry(
        order,
        OrderEventKind.IMPORTED,
        {
            "number": order.number,
            "allegro_status": order.allegro_status,
            "status_name": order.status.name,
            "warnings": len(order.parse_warnings),
        },
        at,
    )


def updated_from_allegro(order: Order, at: dt.datetime) -> OrderEvent:
    """Allegro changed the order's details (no status of it changed)."""
    return _entry(order, OrderEventKind.UPDATED, {"revision": order.revision}, at)


def allegro_status_change(order: Order, previous: str, new: str, at: dt.datetime) -> OrderEvent:
    """Allegro's checkout-form status moved (its codes)."""
    return _entry(order, OrderEventKind.ALLEGRO_STATUS_CHANGED, {"from": previous, "to": new}, at)


def fulfillment_status_change(order: Order, previous: str, new: str, at: dt.datetime) -> OrderEvent:
    """Allegro's fulfillment status of the order moved (its codes)."""
    return _entry(order, OrderEventKind.FULFILLMENT_CHANGED, {"from": previous, "to": new}, at)


def merged_into(old: Order, new: Order, at: dt.datetime) -> OrderEvent:
    """On the older order: Allegro merged this purchase into `new`."""
    return _entry(old, OrderEventKind.MERGED, {"into_number": new.number, "into_id": new.pk}, at)


def merged_from(new: Order, old: Order, at: dt.datetime) -> OrderEvent:
    """On the newer order: it includes the purchase imported earlier as `old`."""
    return _entry(new, OrderEventKind.MERGED, {"from_number": old.number, "from_id": old.pk}, at)


def cancelled_after_shipping(order: Order, status_name: str, at: dt.datetime) -> OrderEvent:
    """Alert: cancelled on Allegro though we already shipped it (our status left alone)."""
    return _entry(
        order,
        OrderEventKind.ALERT,
        {"code": "cancelled_after_shipping", "status_name": status_name},
        at,
    )


def merged_after_shipping(order: Order, into_number: str, at: dt.datetime) -> OrderEvent:
    """Alert: Allegro merged the purchase into another order after we shipped it."""
    return _entry(
        order,
        OrderEventKind.ALERT,
        {"code": "merged_after_shipping", "into_number": into_number},
        at,
    )


def record_attention_cleared(order: Order, actor: User | None) -> OrderEvent:
    """Staff have dealt with the order's alert."""
    return record(_entry(order, OrderEventKind.ATTENTION_CLEARED, {}, None, actor=actor))


def record_shipment_added(
    order: Order,
    *,
    shipment_id: int,
    carrier: str,
    waybill: str,
    lines: int,
    to_allegro: bool,
    actor: User | None,
    at: dt.datetime,
) -> OrderEvent:
    """A shipment with its tracking number; `to_allegro`: the channel passes it on."""
    return record(
        _entry(
            order,
            OrderEventKind.SHIPMENT_ADDED,
            {
                "shipment": shipment_id,
                "carrier": carrier,
                "waybill": waybill,
                "lines": lines,
                "to_allegro": to_allegro,
            },
            at,
            actor=actor,
        )
    )


def record_label(
    order: Order,
    *,
    outcome: str,
    job_id: int,
    actor: User | None,
    carrier: str = "",
    waybills: list[str] | None = None,
    errors: list[str] | None = None,
    at: dt.datetime | None = None,
) -> OrderEvent:
    """A label through Wysyłam z Allegro (fulfillment's LabelJob `job_id`): `outcome` made,
    error or cancelled, with the carrier and waybills, or Allegro's words of an error."""
    data: dict[str, Any] = {"job": job_id, "outcome": outcome}
    if carrier:
        data["carrier"] = carrier
    if waybills:
        data["waybills"] = list(waybills)
    if errors:
        data["errors"] = list(errors)
    return record(_entry(order, OrderEventKind.LABEL, data, at, actor=actor))


def push_outcome(
    *,
    tenant_id: int,
    order_id: int,
    push_id: int,
    push_kind: str,
    outcome: str,
    at: dt.datetime,
    target: str | None = None,
    waybill: str | None = None,
    carrier: str | None = None,
    replaced_by: str | None = None,
    error: str | None = None,
    detail: str | None = None,
) -> OrderEvent:
    """What became of one push to Allegro (fulfillment's outbox row `push_id`): its kind, the
    outcome, the status (`target`) or shipment (`waybill`, `carrier`) it carried, and, as the
    outcome calls for, the status that replaced it or the error code with Allegro's words.
    Facts left at None are not stored."""
    data: dict[str, Any] = {"push": push_id, "kind": push_kind, "outcome": outcome}
    facts = {
        "target": target,
        "waybill": waybill,
        "carrier": carrier,
        "replaced_by": replaced_by,
        "error": error,
        "detail": detail,
    }
    data.update({name: value for name, value in facts.items() if value is not None})
    return _entry(
        None, OrderEventKind.FULFILLMENT_PUSH, data, at, tenant_id=tenant_id, order_id=order_id
    )


def mail_outcome(
    *,
    tenant_id: int,
    order_id: int,
    mail_id: int,
    outcome: str,
    to: str,
    subject: str,
    at: dt.datetime,
    reason: str | None = None,
    reply: str | None = None,
) -> OrderEvent:
    """What became of one e-mail about the order (the notifications outbox row `mail_id`): its
    outcome (a MailState: queued, held, sent, failed), recipient and subject, and as the
    outcome calls for, the hold reason or the server's answer. Facts left at None are not
    stored."""
    data: dict[str, Any] = {"mail": mail_id, "outcome": outcome, "to": to, "subject": subject}
    facts = {"reason": reason, "reply": reply}
    data.update({name: value for name, value in facts.items() if value is not None})
    return _entry(None, OrderEventKind.MAIL, data, at, tenant_id=tenant_id, order_id=order_id)


# --------------------------------------------------------------------------- describing
_describers: dict[str, Describer] = {}


def register_describer(kind: str, describer: Describer) -> None:
    """Let an app above orders say what its kind of entry means (called from AppConfig.ready)."""
    _describers[str(kind)] = describer


def describe(event: OrderEvent) -> str:
    """The entry as a sentence in the active language."""
    describer = _describers.get(event.kind)
    return describer(event) if describer is not None else fallback(event)


def fallback(event: OrderEvent) -> str:
    """An entry without words of its own: its stored message, or the name of its kind."""
    return event.message or event.get_kind_display()


def _status_changed(event: OrderEvent) -> str:
    data = event.data or {}
    return _("Status: %(from)s → %(to)s") % {
        "from": data.get("from_name") or "—",
        "to": data.get("to_name") or "—",
    }


def _allegro_status_changed(event: OrderEvent) -> str:
    # Allegro's codes in data, Allegro's names in the sentence.
    data = event.data or {}
    table = "checkout" if event.kind == OrderEventKind.ALLEGRO_STATUS_CHANGED else "fulfillment"
    return _("%(what)s: %(from)s → %(to)s") % {
        "what": event.get_kind_display(),
        "from": allegro_names.name(table, data.get("from")) or "—",
        "to": allegro_names.name(table, data.get("to")) or "—",
    }


def _imported(event: OrderEvent) -> str:
    data = event.data or {}
    return _("Imported from Allegro as %(number)s (Allegro status %(allegro)s).") % {
        "number": data.get("number", ""),
        "allegro": allegro_names.name("checkout", data.get("allegro_status")) or "—",
    }


def _updated(event: OrderEvent) -> str:
    # The revision in data is Allegro's version tag: nothing a seller reads.
    return _("Order details updated from Allegro.")


def _alert(event: OrderEvent) -> str:
    data = event.data or {}
    if data.get("code") == "cancelled_after_shipping":
        return _(
            "Cancelled on Allegro after it was shipped (status “%(status)s”). The status "
            "was not changed: stop the parcel or contact the buyer."
        ) % {"status": data.get("status_name", "")}
    if data.get("code") == "merged_after_shipping":
        return _(
            "Allegro merged this purchase into order %(number)s after it was shipped. "
            "The status was not changed."
        ) % {"number": data.get("into_number", "")}
    return fallback(event)


def _merged(event: OrderEvent) -> str:
    data = event.data or {}
    if data.get("into_number"):
        return _("Allegro merged this purchase into order %(number)s.") % {
            "number": data["into_number"]
        }
    return _("Includes the purchase imported earlier as %(number)s.") % {
        "number": data.get("from_number", "")
    }


def _attention_cleared(event: OrderEvent) -> str:
    return _("Alert marked as handled.")


register_describer(OrderEventKind.STATUS_CHANGED, _status_changed)
register_describer(OrderEventKind.ALLEGRO_STATUS_CHANGED, _allegro_status_changed)
register_describer(OrderEventKind.FULFILLMENT_CHANGED, _allegro_status_changed)
register_describer(OrderEventKind.IMPORTED, _imported)
register_describer(OrderEventKind.UPDATED, _updated)
register_describer(OrderEventKind.ALERT, _alert)
register_describer(OrderEventKind.MERGED, _merged)
register_describer(OrderEventKind.ATTENTION_CLEARED, _attention_cleared)
