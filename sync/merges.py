"""Merged purchases: when a buyer's purchases are merged, Allegro answers 404 for the old checkout
form and serves a new one holding the same line items (REFERENCE §3.3). For every form the
journal poll found gone, look for that successor: first among the forms the poll has just read,
then by searching the account's forms around the purchase time. The poll then links the old
order to the new one (orders.ingest.mark_order_merged) in the batch that imports the new one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from channels.clients.allegro import (
    AllegroAuthRevoked,
    AllegroClient,
    AllegroError,
    AllegroPermanentError,
    AllegroRateLimited,
    AllegroTransientError,
)
from channels.models import SalesChannel
from orders.models import Order
from sync.runkit import Meter, allegro_get


@dataclass
class Successors:
    """What the search found for the gone forms, in the order they were asked about."""

    merges: list[tuple[str, str]] = field(default_factory=list)  # (old id, new id)
    found: dict[str, Any] = field(default_factory=dict)  # successor forms found by searching
    not_found: list[str] = field(default_factory=list)  # removed, or merged into a form not found
    # The gone form the search stopped at (Allegro unavailable, 429, revoked grant): it and the
    # forms after it are left to the next poll.
    stopped_at: str | None = None
    error: AllegroError | None = None


def find_successors(
    channel: SalesChannel,
    gone: list[str],
    read: dict[str, Any],
    meter: Meter,
    *,
    may_search: bool = True,
) -> Successors:
    """The successor of each gone form of an imported order, looked for among the forms just
    ``read`` (and the successors already found), then with a search at Allegro. With
    ``may_search=False`` (the poll could not read a later form) the first gone form that would
    need a search is where it stops. Orders never imported (their successor brings the lines)
    and orders already linked are skipped."""
    result = Successors()
    known = {
        o.external_id: o
        for o in Order.objects.filter(channel=channel, external_id__in=gone).only(
            "id", "external_id", "bought_at", "buyer_login", "merged_into_id"
        )
    }
    pool = dict(read)
    for form_id in gone:
        order = known.get(form_id)
        if order is None or order.merged_into_id is not None:
            continue
        line_ids = set(order.lines.values_list("external_id", flat=True))
        successor = _successor_in(pool, line_ids, exclude=form_id)
        if successor is None:
            if not may_search:
                # Gone forms are in order of first appearance: stop before this one too; the
                # next poll resolves it.
                result.stopped_at = form_id
                break
            try:
                successor_form = search_successor(channel, order, line_ids, meter)
            except (AllegroTransientError, AllegroRateLimited, AllegroAuthRevoked) as exc:
                result.stopped_at, result.error = form_id, exc
                break
            except AllegroPermanentError:
                successor_form = None  # the search was refused: recorded as not found
            if successor_form is not None:
                successor = str(successor_form["id"])
                pool[successor] = result.found[successor] = successor_form
        if successor is None:
            result.not_found.append(form_id)
        else:
            result.merges.append((form_id, successor))
    return result


def form_line_ids(form: Any) -> set[str]:
    items = form.get("lineItems") if isinstance(form, dict) else None
    if not isinstance(items, list):
        return set()
    return {str(i["id"]) for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)}


def _successor_in(forms: dict[str, Any], line_ids: set[str], *, exclude: str) -> str | None:
    for form_id, form in forms.items():
        if form_id != exclude and line_ids & form_line_ids(form):
            return form_id
    return None


def search_successor(
    channel: SalesChannel, order: Order, line_ids: set[str], meter: Meter
) -> dict | None:
    """The checkout form Allegro merged ``order`` into: a form holding one of its line items.
    Looked for among the buyer's forms, then among forms bought up to 7 days before it."""
    if not line_ids:
        return None
    bought = order.bought_at
    # (buyer login or "" for anyone's, offset)
    attempts = [(order.buyer_login, 0)] if order.buyer_login else []
    attempts += [("", offset) for offset in (0, 100, 200)]
    for buyer_login, offset in attempts:
        page = allegro_get(
            channel,
            meter,
            AllegroClient.list_checkout_forms,
            bought_from=bought - timedelta(days=7),
            bought_to=bought + timedelta(seconds=1),
            buyer_login=buyer_login,
            sort="-lineItems.boughtAt",
            limit=100,
            offset=offset,
        )
        forms = page.checkout_forms
        for form in forms:
            if isinstance(form, dict) and form.get("id") and line_ids & form_line_ids(form):
                return form
        if (not forms or len(forms) < 100) and not buyer_login:
            break
    return None
