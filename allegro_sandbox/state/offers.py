"""Offers and their event journal (part of ``Store``)."""

from __future__ import annotations

from typing import Any

from .. import data
from .base import Seller


class OffersMixin:
    def create_offers(self, seller: Seller, count: int) -> list[dict[str, Any]]:
        now = self.clock.now()
        start = len(self.seller_offers.get(seller.id, []))
        offers = data.make_offers(self.rng, seller.id, count, now, start)
        if start:
            # A seller's first offers have a history; later ones are made now, so the listing
            # (newest first) shows them at its front, as Allegro does.
            for k, o in enumerate(offers):
                o["created_at"] = now + k / 1000
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
            "offer": {"id": offer["id"]},
        }
        if offer.get("external_id"):
            ev["offer"]["external"] = {"id": offer["external_id"]}
        if type_ == "OFFER_PRICE_CHANGED":
            # The spec's OfferEventExternalOfferForPriceChanges: where and how, not the price.
            ev["offer"]["marketplaces"] = [{"id": "allegro-pl", "changeType": "MANUAL"}]
        self.offer_events[seller_id].append(ev)
        self.dirty = True

    def listed_offers(self, seller_id: str) -> list[dict[str, Any]]:
        """The seller's offers /sale/offers shows: archived and deleted ones are gone."""
        return [
            o
            for o in (self.offers.get(i) for i in self.seller_offers.get(seller_id, []))
            if o is not None and not o.get("archived")
        ]

    def archive_offer(self, offer: dict[str, Any]) -> None:
        """An ended offer archived: gone from the listing, OFFER_ARCHIVED in the journal."""
        offer["archived"] = True
        offer["status"] = "ENDED"
        self.emit_offer_event(offer["seller_id"], "OFFER_ARCHIVED", offer)

    def delete_offer(self, offer: dict[str, Any]) -> None:
        """A draft deleted: gone at once, without an event (drafts have none)."""
        self.offers.pop(offer["id"], None)
        ids = self.seller_offers.get(offer["seller_id"], [])
        if offer["id"] in ids:
            ids.remove(offer["id"])
        self.dirty = True

    def expire_offer_events(self, seller_id: str) -> int:
        """Drop every offer event of the seller, as 24 h without reading would."""
        dropped = len(self.offer_events.get(seller_id, []))
        self.offer_events[seller_id] = []
        self.dirty = True
        return dropped
