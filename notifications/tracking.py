"""Tracking links of shipments: the carriers' public tracking pages, by Allegro carrier id.

Allegro gives no tracking address (REFERENCE §3.5 only stores the waybill), so the link is the
carrier's own page for the number; a carrier not listed here gets no link, only its number.
"""

from __future__ import annotations

from urllib.parse import quote

from fulfillment.models import Shipment
from orders.models import Order

# Allegro carrier id → the carrier's public tracking page, "{}" is the URL-quoted waybill.
TRACKING_PAGES: dict[str, str] = {
    "INPOST": "https://inpost.pl/sledzenie-przesylek?number={}",
    "DPD": "https://tracktrace.dpd.com.pl/parcelDetails?typ=1&p1={}",
    "DHL": "https://www.dhl.com/pl-pl/home/tracking.html?tracking-id={}",
    "POCZTA_POLSKA": "https://emonitoring.poczta-polska.pl/?numer={}",
    "GLS": "https://gls-group.com/PL/pl/sledzenie-paczek?match={}",
    "UPS": "https://www.ups.com/track?tracknum={}",
    "FEDEX": "https://www.fedex.com/fedextrack/?trknbr={}",
    "ALLEGRO": "https://allegro.pl/allegrodelivery/sledzenie-paczki?numer={}",
}


def url_for(shipment: Shipment) -> str:
    page = TRACKING_PAGES.get((shipment.carrier_id or "").upper())
    if page is None or not shipment.waybill:
        return ""
    return page.format(quote(shipment.waybill, safe=""))


def shipments_of(order: Order) -> list[Shipment]:
    return list(
        Shipment.objects.filter(tenant_id=order.tenant_id, order_id=order.pk).order_by(
            "created_at", "id"
        )
    )
