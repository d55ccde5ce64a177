"""Offers and their event journal (part of ``Store``)."""

from __future__ import annotations

from typing import Any

from .. import data
from .base import Seller


class OffersMixin:
    def create_offers(self, seller: Seller, count: int) -> list[dict[str, Any]]:
        now = self.clock.now()
        offers = data.make_offers(self.rng, seller.id, count, now)
        for o in offers:
            while o["id"] in self.offers:
                o["id"] = str(int(o["id"]) + 1)
            self.offers[o["id"]] = o
            self.seller_offers[seller.id].append(o["id"])
            if o["status"] in ("ACTIVE", "ACTIVATING"):
                self.emit_offer_event(seller.id, "OFFER_ACTIVATED", o)
        self.dirty = True
        return offers

    def emit_offer_event(self, seller_id: str, type_: str, offer: dict[str, Any]) -> None:
        self.offer_event_seq += 1
        ev: dict[str, Any] = {
            "seq": self.offer_event_seq,
            "type": type_,
            "occurred": self.clock.now(),
            "offer": {"id": offer["id"], "external": {"id": offer["external_id"]}},
        }
        if type_ == "OFFER_PRICE_CHANGED":
            ev["offer"]["sellingMode"] = {"price": data.money(offer["price"], offer["currency"])}
        self.offer_events[seller_id].append(ev)
        self.dirty = True
