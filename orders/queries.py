"""Read side of the order list: tabs, filters, search, sort and keyset pagination.

Every function takes the tenant explicitly and filters by it (besides django-scopes), and every
id a filter names has already been checked against the tenant's own rows (orders.forms), so a
filter can only ever narrow the tenant's orders.

Keyset pagination: a page is the `PAGE_SIZE` rows after (or before) a cursor on
(sort key, id); the query walks an index that leads with the tenant, so a deep page costs the
same as the first one (no OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import Tenant
from orders.models import Order, OrderStatus, OrderStatusCount, PaymentStatus
from orders.search import search_condition

if TYPE_CHECKING:
    # django-stubs' helper for annotated rows (a development dependency, so types only).
    from django_stubs_ext import WithAnnotations

    class _OrderCount(TypedDict):
        order_count: int

    # A status as statuses_with_counts() reads it: with the number of its orders.
    StatusWithCount: TypeAlias = WithAnnotations[OrderStatus, _OrderCount]

PAGE_SIZE = 50
# A keyset cursor's total is a stored amount: DecimalField(max_digits=12, decimal_places=2).
_MAX_TOTAL = Decimal("10000000000")
_CENT = Decimal("0.01")
_MAX_ID = 2**63 - 1


class Tab(StrEnum):
    NEW = "new"
    IN_PROGRESS = "in_progress"
    TO_SHIP = "to_ship"
    COMPLETED = "completed"
    UNPAID = "unpaid"  # by payment status, not by status group
    ALL = "all"


TAB_LABELS = {
    Tab.NEW: _("New"),
    Tab.IN_PROGRESS: _("In progress"),
    Tab.TO_SHIP: _("To ship"),
    Tab.COMPLETED: _("Completed"),
    Tab.UNPAID: _("Unpaid"),
    Tab.ALL: _("All"),
}
DEFAULT_TAB = Tab.NEW
# The "unpaid" tab: nothing or part of the total paid; cash on delivery is paid at the door.
UNPAID_PAYMENT_STATUSES = (PaymentStatus.NONE, PaymentStatus.PARTIAL)


class Sort(StrEnum):
    BOUGHT_DESC = "-bought"
    BOUGHT_ASC = "bought"
    TOTAL_DESC = "-total"
    TOTAL_ASC = "total"


SORT_LABELS = {
    Sort.BOUGHT_DESC: _("Newest first"),
    Sort.BOUGHT_ASC: _("Oldest first"),
    Sort.TOTAL_DESC: _("Highest total first (per currency)"),
    Sort.TOTAL_ASC: _("Lowest total first (per currency)"),
}
# Amounts in different currencies are not comparable: the total sorts group by currency first
# (in the sort's direction, so one index serves both), then by amount.


@dataclass(frozen=True)
class SortKey:
    column: str
    descending: bool
    group: str = ""  # a column sorted before `column` (same direction), or none


_SORT_KEYS = {
    Sort.BOUGHT_DESC: SortKey("bought_at", True),
    Sort.BOUGHT_ASC: SortKey("bought_at", False),
    Sort.TOTAL_DESC: SortKey("total_to_pay", True, group="currency"),
    Sort.TOTAL_ASC: SortKey("total_to_pay", False, group="currency"),
}

# The columns a list row shows (raw_form and the addresses stay in the database).
LIST_COLUMNS = (
    "id",
    "tenant_id",
    "number",
    "external_id",
    "bought_at",
    "imported_at",
    "buyer_login",
    "buyer_email",
    "buyer_first_name",
    "buyer_last_name",
    "buyer_company",
    "delivery_method_name",
    "payment_type",
    "payment_status",
    "total_to_pay",
    "currency",
    "needs_attention",
    "status__id",
    "status__name",
    "status__colour",
    "channel__id",
    "channel__name",
    "channel__alias",
)


@dataclass
class OrderFilters:
    """What the list shows. Ids here are already known to be the tenant's."""

    tab: Tab = DEFAULT_TAB
    q: str = ""
    status_id: int | None = None
    payment_status: str = ""
    channel_id: int | None = None
    delivery_method_id: str = ""
    bought_from: dt.date | None = None
    bought_to: dt.date | None = None
    imported_from: dt.date | None = None
    imported_to: dt.date | None = None
    sort: Sort = Sort.BOUGHT_DESC


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def tab_status_ids(statuses: Sequence[OrderStatus], tab: Tab) -> list[int] | None:
    """The ids of the statuses a tab shows (None: every status)."""
    if tab in (Tab.ALL, Tab.UNPAID):
        return None
    return [s.pk for s in statuses if s.group == tab.value]


def filtered_orders(
    tenant: Tenant, filters: OrderFilters, statuses: Sequence[OrderStatus]
) -> QuerySet[Order]:
    qs = Order.objects.filter(tenant=tenant)
    if filters.tab == Tab.UNPAID:
        qs = qs.filter(payment_status__in=UNPAID_PAYMENT_STATUSES)
    else:
        ids = tab_status_ids(statuses, filters.tab)
        if ids is not None:
            qs = qs.filter(status_id__in=ids) if ids else qs.none()
    if filters.status_id is not None:
        qs = qs.filter(status_id=filters.status_id)
    if filters.payment_status:
        qs = qs.filter(payment_status=filters.payment_status)
    if filters.channel_id is not None:
        qs = qs.filter(channel_id=filters.channel_id)
    if filters.delivery_method_id:
        qs = qs.filter(delivery_method_id=filters.delivery_method_id)
    if filters.bought_from:
        qs = qs.filter(bought_at__gte=_day_start(filters.bought_from))
    if filters.bought_to:
        qs = qs.filter(bought_at__lt=_day_start(filters.bought_to + dt.timedelta(days=1)))
    if filters.imported_from:
        qs = qs.filter(imported_at__gte=_day_start(filters.imported_from))
    if filters.imported_to:
        qs = qs.filter(imported_at__lt=_day_start(filters.imported_to + dt.timedelta(days=1)))
    if filters.q:
        qs = qs.filter(search_condition(filters.q))
    return qs


def statuses_with_counts(tenant: Tenant) -> list[StatusWithCount]:
    """The tenant's statuses in display order, each with `order_count` (from OrderStatusCount,
    kept by the writing services): one small query whatever the number of orders."""
    count = OrderStatusCount.objects.filter(tenant=tenant, status=OuterRef("pk")).values("count")
    return list(
        OrderStatus.objects.filter(tenant=tenant)
        .annotate(order_count=Coalesce(Subquery(count[:1]), 0))
        .order_by("position", "pk")
    )


def unpaid_count(tenant: Tenant) -> int:
    """Orders of the "unpaid" tab: an index-only count over the partial index of unpaid orders
    (order_tenant_unpaid), so it costs what there is to pay, not the size of the table."""
    return Order.objects.filter(tenant=tenant, payment_status__in=UNPAID_PAYMENT_STATUSES).count()


def tab_counts(statuses: list[StatusWithCount], unpaid: int = 0) -> dict[Tab, int]:
    """Orders per tab, summed from statuses_with_counts(); `unpaid` from unpaid_count()."""
    tab_of_group = {tab.value: tab for tab in Tab if tab not in (Tab.ALL, Tab.UNPAID)}
    counts = dict.fromkeys(Tab, 0)
    counts[Tab.UNPAID] = unpaid
    for status in statuses:
        counts[Tab.ALL] += status.order_count
        tab = tab_of_group.get(status.group)
        if tab is not None:
            counts[tab] += status.order_count
    return counts


# --- Keyset pagination -------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    sort: Sort
    value: Any  # datetime or Decimal
    id: int
    before: bool = False  # True: the page before this row ("previous")
    group: str = ""  # the row's currency, for the sorts by total

    def encode(self) -> str:
        value = self.value.isoformat() if isinstance(self.value, dt.datetime) else str(self.value)
        payload = json.dumps([self.sort.value, value, self.id, int(self.before), self.group])
        return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str, sort: Sort) -> Cursor | None:
        """The cursor, or None if it is malformed, out of range or made for another sort
        (→ first page)."""
        if not text or len(text) > 200:
            return None
        try:
            padded = text + "=" * (-len(text) % 4)
            payload = json.loads(base64.urlsafe_b64decode(padded))
            raw_sort, raw_value, raw_id, before, group = payload
            if raw_sort != sort.value or not isinstance(raw_value, str):
                return None
            if not isinstance(raw_id, int) or not 0 < raw_id <= _MAX_ID:
                return None
            if not isinstance(group, str) or len(group) > 3:
                return None
            key = _SORT_KEYS[sort]
            if key.column == "bought_at":
                value: Any = dt.datetime.fromisoformat(raw_value)
                if value.tzinfo is None:
                    return None
                value.astimezone(dt.UTC)  # representable in UTC, as the database compares it
            else:
                value = Decimal(raw_value)
                if not value.is_finite() or abs(value) >= _MAX_TOTAL:
                    return None
                value = value.quantize(_CENT)
            return cls(sort, value, raw_id, bool(before), group if key.group else "")
        except (
            ValueError,
            TypeError,
            OverflowError,
            binascii.Error,
            InvalidOperation,
            UnicodeDecodeError,
        ):
            return None


@dataclass
class Page:
    orders: list[Order] = field(default_factory=list)
    next_cursor: str | None = None
    prev_cursor: str | None = None


def page_of(qs: QuerySet[Order], sort: Sort, cursor: Cursor | None, size: int = PAGE_SIZE) -> Page:
    """One page in `sort` order after/before `cursor`.

    By date: one query of size + 1 rows. By total (grouped by currency): the rest of the
    cursor's currency first, then, if the page is not full, the currencies after it; each query
    walks the index on (tenant, currency, total, id) from the cursor on.
    """
    key = _SORT_KEYS[sort]
    column = key.column
    backwards = cursor is not None and cursor.before
    # Walking backwards = the opposite order, then the rows are turned round.
    walk_desc = key.descending != backwards
    past = "lt" if walk_desc else "gt"
    bound = "lte" if walk_desc else "gte"
    sign = "-" if walk_desc else ""
    ordering = [f"{sign}{name}" for name in (key.group, column, "id") if name]
    base = qs.select_related("status", "channel").only(*LIST_COLUMNS).order_by(*ordering)
    if cursor is None:
        rows = list(base[: size + 1])
    else:
        within = Q(**{f"{column}__{bound}": cursor.value}) & (
            Q(**{f"{column}__{past}": cursor.value})
            | Q(**{column: cursor.value, f"id__{past}": cursor.id})
        )
        if key.group:
            within &= Q(**{key.group: cursor.group})
        rows = list(base.filter(within)[: size + 1])
        if key.group and len(rows) <= size:
            later = base.filter(**{f"{key.group}__{past}": cursor.group})
            rows += list(later[: size + 1 - len(rows)])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    page = Page(orders=rows)
    if not rows:
        return page

    def at(order: Order, before: bool) -> str:
        group = getattr(order, key.group) if key.group else ""
        return Cursor(sort, getattr(order, column), order.pk, before, group).encode()

    if backwards:
        page.next_cursor = at(rows[-1], False)
        page.prev_cursor = at(rows[0], True) if more else None
    else:
        page.next_cursor = at(rows[-1], False) if more else None
        page.prev_cursor = at(rows[0], True) if cursor is not None else None
    return page


def offset_page(qs: QuerySet[Order], sort: Sort, offset: int, size: int = PAGE_SIZE) -> list[Order]:
    """The same page by OFFSET: the benchmark's baseline only, never used by the views."""
    key = _SORT_KEYS[sort]
    sign = "-" if key.descending else ""
    ordering = [f"{sign}{name}" for name in (key.group, key.column, "id") if name]
    return list(
        qs.select_related("status", "channel")
        .only(*LIST_COLUMNS)
        .order_by(*ordering)[offset : offset + size]
    )
