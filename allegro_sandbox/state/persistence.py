"""Saves the store to a SQLite file: small objects as JSON blobs, orders/events as rows."""

from __future__ import annotations

import bisect
import json
import sqlite3
from typing import Any

from .base import ClientApp, Seller, Token
from .orders import Event, Order
from .store import Store


def _event_from(d: dict[str, Any]) -> Event:
    ev = Event(d["seller_id"], d["type"], d["occurred"], d["order_id"], d["payload"])
    ev.id = d["id"]
    return ev


class Persistence:
    """Saves the store to a SQLite file: small objects as JSON blobs, orders/events as rows."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.db = sqlite3.connect(path, check_same_thread=False)
        self.db.executescript(
            "CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value TEXT);"
            "CREATE TABLE IF NOT EXISTS orders (id TEXT PRIMARY KEY, seller_id TEXT, data TEXT);"
            "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, seller_id TEXT, data TEXT);"
        )

    def has_state(self) -> bool:
        return self.db.execute("SELECT count(*) FROM kv").fetchone()[0] > 0

    def wipe(self) -> None:
        with self.db:
            self.db.execute("DELETE FROM kv")
            self.db.execute("DELETE FROM orders")
            self.db.execute("DELETE FROM events")

    def save(self, store: Store) -> None:
        with store.lock:
            if not store.dirty and not store.dirty_orders:
                return
            small = json.dumps(store.snapshot_small(), ensure_ascii=False)
            rows = [
                (oid, store.orders[oid].seller_id, json.dumps(store.orders[oid].dump()))
                for oid in store.dirty_orders
                if oid in store.orders
            ]
            new_events = [
                (ev.id, ev.seller_id, json.dumps(ev.dump()))
                for j in store.journals.values()
                for ev in j.events[bisect.bisect_right(j.ids, store.saved_event_id) :]
            ]
            store.dirty_orders = set()
            store.dirty = False
            store.saved_event_id = store.last_event_id
        with self.db:
            self.db.execute("INSERT OR REPLACE INTO kv VALUES ('state', ?)", (small,))
            self.db.executemany("INSERT OR REPLACE INTO orders VALUES (?, ?, ?)", rows)
            self.db.executemany("INSERT OR REPLACE INTO events VALUES (?, ?, ?)", new_events)

    def load(self, store: Store) -> None:
        row = self.db.execute("SELECT value FROM kv WHERE key='state'").fetchone()
        if not row:
            return
        st = json.loads(row[0])
        with store.lock:
            store.clear()
            for s in st["sellers"]:
                seller = Seller(**s)
                store.sellers[seller.id] = seller
                store.logins[seller.login] = seller.id
            for c in st["clients"]:
                store.clients[c["client_id"]] = ClientApp(**c)
            for t in st["tokens"]:
                store.tokens[t["token"]] = Token(**t)
            store.offers = {o["id"]: o for o in st["offers"]}
            store.seller_offers.update(st["seller_offers"])
            store.offer_events.update(st["offer_events"])
            store.offer_event_seq = st["offer_event_seq"]
            store.last_event_id = st["last_event_id"]
            store.faults = st["faults"]
            store.unreadable_forms = dict(st.get("unreadable_forms", {}))
            store.unlisted_forms = set(st.get("unlisted_forms", []))
            store.stale_listed_forms = dict(st.get("stale_listed_forms", {}))
            if st.get("clock_offset"):
                store.clock.advance(max(0.0, st["clock_offset"] - store.clock.offset))
            for oid, sid, blob in self.db.execute("SELECT id, seller_id, data FROM orders"):
                order = Order.load(json.loads(blob))
                store.orders[oid] = order
                store.seller_orders[sid].append(order)
            for sid in store.seller_orders:
                store.seller_orders[sid].sort(key=lambda o: o.bought_ts)
            for (blob,) in self.db.execute("SELECT data FROM events ORDER BY id"):
                ev = _event_from(json.loads(blob))
                j = store.journals[ev.seller_id]
                j.ids.append(ev.id)
                j.events.append(ev)
            for sid, p in st.get("pending", {}).items():
                j = store.journals[sid]
                j.withheld = [_event_from(d) for d in p["withheld"]]
                j.pending = [(t, _event_from(d)) for t, d in p["pending"]]
            store.saved_event_id = store.last_event_id
            store.dirty = False
