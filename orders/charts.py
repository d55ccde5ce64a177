"""Server-side SVG charts for the dashboard: no JavaScript, no CDN, CSP-safe."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.models import Tenant
from orders.models import Order


def orders_per_day(
    tenant: Tenant, days: int = 30, *, today: dt.date | None = None
) -> list[tuple[dt.date, int]]:
    """Orders bought per day over the last `days` days (today included), in the tenant's time
    zone; one grouped query. Days without orders are 0."""
    tz = timezone.get_default_timezone()
    today = today or timezone.localdate(timezone=tz)
    first = today - dt.timedelta(days=days - 1)
    start = dt.datetime.combine(first, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    counts = dict(
        Order.objects.filter(tenant=tenant, bought_at__gte=start, bought_at__lt=end)
        .annotate(day=TruncDate("bought_at", tzinfo=tz))
        .order_by()
        .values_list("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [
        (first + dt.timedelta(days=i), counts.get(first + dt.timedelta(days=i), 0))
        for i in range(days)
    ]


def axis_ticks(peak: int, *, most: int = 5) -> list[int]:
    """Whole-number y-axis ticks from 0 up to at least `peak`, at most `most` of them, each
    step 1, 2 or 5 times a power of ten: never two ticks with the same label. No orders: [0]."""
    if peak <= 0:
        return [0]
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            top = -(-peak // step) * step  # peak rounded up to a whole step
            if top // step + 1 <= most:
                return list(range(0, top + 1, step))
        power *= 10


def bar_chart_svg(
    series: list[tuple[dt.date, int]], *, width: int = 720, height: int = 220
) -> SafeString:
    """A bar per day with a <title> tooltip, whole-number ticks on the y axis, every 5th day
    labelled. Without orders: the 0 baseline and a short message instead of bars."""
    left, bottom, top = 36, 24, 12
    plot_w, plot_h = width - left - 8, height - bottom - top
    base = top + plot_h
    peak = max((n for _day, n in series), default=0)
    ticks = axis_ticks(peak)
    scale = plot_h / ticks[-1] if ticks[-1] else 0
    slot = plot_w / max(len(series), 1)
    bars = []
    labels = []
    for i, (day, n) in enumerate(series):
        h = round(n * scale, 1)
        x = round(left + i * slot + slot * 0.15, 1)
        y = round(base - h, 1)
        tip = ngettext("%(day)s: %(n)d order", "%(day)s: %(n)d orders", n) % {
            "day": date_format(day, "SHORT_DATE_FORMAT"),
            "n": n,
        }
        bars.append((x, y, round(slot * 0.7, 1), h, tip))
        if i % 5 == 0 or i == len(series) - 1:
            labels.append(
                (round(x + slot * 0.35, 1), height - 6, date_format(day, "MONTH_DAY_FORMAT"))
            )
    tick_marks = format_html_join(
        "",
        '<line x1="{l}" y1="{y}" x2="{r}" y2="{y}" stroke="#e5e7eb"/>'
        '<text class="y-label" x="{tx}" y="{ty}" text-anchor="end" font-size="11" '
        'fill="#6b7280">{n}</text>',
        (
            {"l": left, "r": width - 8, "y": y, "tx": left - 6, "ty": y + 4, "n": n}
            for n in ticks[1:]
            for y in [round(base - n * scale, 1)]
        ),
    )
    if peak:
        body = format_html_join(
            "",
            '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="#2563eb">'
            "<title>{}</title></rect>",
            bars,
        )
    else:
        body = format_html(
            '<text class="empty" x="{}" y="{}" text-anchor="middle" font-size="14" '
            'fill="#6b7280">{}</text>',
            round(left + plot_w / 2, 1),
            round(top + plot_h / 2, 1),
            _("No orders in this period"),
        )
    return format_html(
        '<svg class="chart" viewBox="0 0 {w} {h}" width="100%" role="img" aria-label="{label}">'
        "{ticks}"
        '<line x1="{l}" y1="{base}" x2="{r}" y2="{base}" stroke="#9ca3af"/>'
        '<text class="y-label" x="{tx}" y="{base_label}" text-anchor="end" font-size="11" '
        'fill="#6b7280">0</text>'
        "{body}{labels}</svg>",
        w=width,
        h=height,
        label=_("Orders per day, last %(days)d days") % {"days": len(series)},
        ticks=tick_marks or mark_safe(""),
        l=left,
        r=width - 8,
        base=base,
        base_label=base + 4,
        tx=left - 6,
        body=body,
        labels=format_html_join(
            "",
            '<text x="{}" y="{}" text-anchor="middle" font-size="11" fill="#6b7280">{}</text>',
            labels,
        )
        or mark_safe(""),
    )
