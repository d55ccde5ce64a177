"""Resource server handlers of "Wysyłam z Allegro": /shipment-management/... ."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from .errors import ApiError
from .labels import label_pdf, label_zpl, protocol_pdf
from .state import Store
from .state.shipments import RETRY_AFTER, Command, WzaError, error_item
from .web import Request, Response, json_response

UUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)
PDF = "application/pdf"
OCTET = "application/octet-stream"


def wza_error(status: int, code: str, message: str, path: str | None = None) -> ApiError:
    return ApiError(status, {"errors": [error_item(code, message, path, message)]})


def _raise(e: WzaError) -> ApiError:
    if e.items:
        return ApiError(e.status, {"errors": e.items})
    return wza_error(e.status, e.code, e.message, e.path)


def _status(cmd: Command, result_key: str) -> dict[str, Any]:
    body: dict[str, Any] = {"commandId": cmd.id, "status": cmd.status}
    if cmd.status == "ERROR":
        body["errors"] = cmd.errors
    if cmd.status == "SUCCESS" and cmd.result_id:
        body[result_key] = cmd.result_id
    return body


class ShipmentApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _json_body(self, req: Request) -> dict[str, Any]:
        body = req.json()
        if not isinstance(body, dict):
            raise wza_error(400, "VALIDATION_ERROR", "Request body must be a JSON object")
        return body

    # ------------------------------------------------------------------ proposals
    def delivery_proposals(self, req: Request) -> Response:
        oid = req.params["orderId"]
        if not UUID_RE.match(oid):
            raise wza_error(400, "VALIDATION_ERROR", f"Invalid order id: {oid}", "orderId")
        order = self.store.visible_order(req.auth.seller_id, oid)
        if order is None:
            raise wza_error(404, "NOT_FOUND", f"Order {oid} not found", "orderId")
        try:
            body = self.store.delivery_proposal(order, self.store.sellers[req.auth.seller_id])
        except WzaError as e:
            raise _raise(e) from None
        return json_response(body)

    # ------------------------------------------------------------------ commands
    def _post_command(self, req: Request, kind: str) -> Response:
        body = self._json_body(req)
        try:
            cmd = self.store.new_command(kind, req.auth.seller_id, body)
        except WzaError as e:
            raise _raise(e) from None
        resp = json_response({"commandId": cmd.id, "input": cmd.input})
        resp.headers.append(("Retry-After", str(RETRY_AFTER)))
        return resp

    def _get_command(self, req: Request, kind: str, result_key: str) -> Response:
        cmd = self.store.command(kind, req.auth.seller_id, req.params["commandId"])
        if cmd is None:
            return Response(404)  # the spec lists a bodiless 404 for unknown commands
        body = _status(cmd, result_key)
        if kind == "pickup" and cmd.status == "SUCCESS" and cmd.result_id:
            body["carrierPickupId"] = self.store.wza_pickups[cmd.result_id]["carrierPickupId"]
        resp = json_response(body)
        if cmd.status == "IN_PROGRESS":
            resp.headers.append(("Retry-After", str(RETRY_AFTER)))
        return resp

    def create_command(self, req: Request) -> Response:
        return self._post_command(req, "create")

    def create_status(self, req: Request) -> Response:
        return self._get_command(req, "create", "shipmentId")

    def cancel_command(self, req: Request) -> Response:
        return self._post_command(req, "cancel")

    def cancel_status(self, req: Request) -> Response:
        return self._get_command(req, "cancel", "shipmentId")

    def pickup_command(self, req: Request) -> Response:
        return self._post_command(req, "pickup")

    def pickup_status(self, req: Request) -> Response:
        return self._get_command(req, "pickup", "pickupId")

    # ------------------------------------------------------------------ shipments
    def shipment(self, req: Request) -> Response:
        sid = req.params["shipmentId"]
        sh = self.store.shipment(req.auth.seller_id, sid)
        if sh is None:
            raise wza_error(404, "NOT_FOUND", f"Shipment {sid} not found", "shipmentId")
        return json_response(sh.wire(self.store.clock.now()))

    def label(self, req: Request) -> Response:
        body = self._json_body(req)
        page = body.get("pageSize") or "A4"
        if page not in ("A4", "A6"):
            raise wza_error(400, "VALIDATION_ERROR", f"Invalid page size: {page}", "pageSize")
        try:
            shipments = self.store.label_shipments(req.auth.seller_id, body.get("shipmentIds"))
        except WzaError as e:
            raise _raise(e) from None
        formats = {sh.input.get("labelFormat") or "PDF" for sh in shipments}
        if len(formats) > 1:
            raise wza_error(
                400, "VALIDATION_ERROR", "Shipments have different label formats", "shipmentIds"
            )
        if formats == {"ZPL"}:
            return Response(200, label_zpl(shipments), OCTET)
        return Response(200, label_pdf(shipments, page, bool(body.get("cutLine"))), OCTET)

    def protocol(self, req: Request) -> Response:
        body = self._json_body(req)
        try:
            shipments = self.store.label_shipments(req.auth.seller_id, body.get("shipmentIds"))
        except WzaError as e:
            raise _raise(e) from None
        if any(sh.carrier == "ALLEGRO" for sh in shipments):
            return Response(204)  # Allegro One needs no protocol: "depends on carrier"
        seller = self.store.sellers[req.auth.seller_id]
        day = datetime.fromtimestamp(self.store.clock.now(), UTC).strftime("%Y-%m-%d")
        name = seller.company_name or f"{seller.first_name} {seller.last_name}"
        return Response(200, protocol_pdf(shipments, name, day), OCTET)

    # ------------------------------------------------------------------ pickups
    def pickup_proposals(self, req: Request) -> Response:
        body = self._json_body(req)
        ids = body.get("shipmentIds")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise wza_error(
                400, "VALIDATION_ERROR", "shipmentIds must hold 1 to 100 ids", "shipmentIds"
            )
        if not isinstance(body.get("address"), dict):
            raise wza_error(400, "VALIDATION_ERROR", "address must not be null", "address")
        start = datetime.fromtimestamp(self.store.clock.now(), UTC).date()
        if body.get("readyDate"):
            try:
                ready = datetime.strptime(body["readyDate"], "%Y-%m-%d").replace(tzinfo=UTC)
                start = max(start, ready.date())
            except ValueError:
                raise wza_error(
                    400, "VALIDATION_ERROR", "readyDate must be yyyy-MM-dd", "readyDate"
                ) from None
        out = []
        for sid in ids:
            sh = self.store.shipment(req.auth.seller_id, str(sid))
            if sh is None:
                raise wza_error(404, "NOT_FOUND", f"Shipment {sid} not found", "shipmentIds")
            days = [start + timedelta(days=d) for d in range(1, 4)]
            out.append(
                {
                    "shipmentId": sh.id,
                    "pickupTimes": [
                        {"date": d.isoformat(), "minTime": "10:00", "maxTime": "16:00"}
                        for d in days
                    ],
                }
            )
        return json_response([{"proposals": out, "address": body["address"]}])

    def pickup(self, req: Request) -> Response:
        pid = req.params["pickupId"]
        p = self.store.wza_pickups.get(pid)
        if p is None or p["seller_id"] != req.auth.seller_id:
            raise wza_error(404, "NOT_FOUND", f"Pickup {pid} not found", "pickupId")
        return json_response({k: v for k, v in p.items() if k not in ("seller_id", "pickupTime")})
