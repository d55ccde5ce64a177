"""Wysyłam z Allegro as the sandbox answers it: proposals, commands, shipments, files, pickups."""

from __future__ import annotations

import io
from typing import Any

import pypdf

from tests.sandbox.helpers import REDIRECT, Connected, one_error

SM = "/shipment-management"
OPAQUE = "Problem z nadaniem przesyłki. Skontaktuj się z nami"
SENDER = {
    "name": "Jan Sprzedawca",
    "street": "Główna 30",
    "postalCode": "60-166",
    "city": "Poznań",
    "countryCode": "PL",
    "email": "sklep@example.com",
    "phone": "500600700",
}


def order_with(connected: Connected, **kw: Any) -> str:
    return connected.sandbox.create_orders("anna", 1, seed=kw.pop("seed", 7), **kw)[0]


def proposal(connected: Connected, order_id: str) -> dict[str, Any]:
    r = connected.api.get(f"{SM}/delivery-proposals/{order_id}")
    assert r.status_code == 200, r.text
    return r.json()


def create_input(connected: Connected, order_id: str, **changes: Any) -> dict[str, Any]:
    inp = proposal(connected, order_id)["suggestedInput"]
    inp["sender"] = dict(SENDER)
    inp.update(changes)
    return inp


def run_command(connected: Connected, inp: dict[str, Any], command_id: str) -> dict[str, Any]:
    api = connected.api
    r = api.post(f"{SM}/shipments/create-commands", json={"commandId": command_id, "input": inp})
    assert r.status_code == 200, r.text
    assert r.headers["Retry-After"] == "1"
    connected.sandbox.advance_clock(2)
    return api.get(f"{SM}/shipments/create-commands/{command_id}").json()


def pdf_text(content: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(content)).pages]


def test_delivery_proposal_prefills_from_the_order(connected: Connected) -> None:
    oid = order_with(connected, delivery="locker", payment_type="CASH_ON_DELIVERY")
    form = connected.sandbox.order(oid)["checkoutForm"]
    body = proposal(connected, oid)
    assert body["orderId"] == oid
    receiver = body["suggestedInput"]["receiver"]
    assert receiver["email"] == form["buyer"]["email"]
    assert receiver["point"] == form["delivery"]["pickupPoint"]["id"]
    assert body["suggestedInput"]["cashOnDelivery"] == {
        "amount": form["summary"]["totalToPay"]["amount"],
        "currency": "PLN",
    }
    (option,) = body["deliveryOptions"]
    assert option["deliveryType"] == "APM"
    assert option["paymentType"] == "POSTPAID"
    assert option["limits"]["weight"] == {"value": 25.0, "unit": "KILOGRAMS"}
    assert option["limits"]["cashOnDelivery"] == {"amount": "5000.00", "currency": "PLN"}


def test_unsupported_delivery_method_answers_400(connected: Connected) -> None:
    oid = order_with(connected)
    connected.sandbox.set_delivery_method(oid, "Odbiór osobisty")
    r = connected.api.get(f"{SM}/delivery-proposals/{oid}")
    assert r.status_code == 400
    assert one_error(r)["code"] == "UNSUPPORTED_DELIVERY_METHOD"


def test_create_command_in_progress_then_success_and_waybill_on_the_order(
    connected: Connected,
) -> None:
    sb, api = connected.sandbox, connected.api
    oid = order_with(connected, delivery="courier")
    inp = create_input(connected, oid)
    inp["packages"][0]["textOnLabel"] = "Zamówienie AL2611000017"
    cid = "3f1e2d4c-0000-4000-8000-000000000001"
    r = api.post(f"{SM}/shipments/create-commands", json={"commandId": cid, "input": inp})
    assert r.json()["commandId"] == cid
    status = api.get(f"{SM}/shipments/create-commands/{cid}")
    assert status.json() == {"commandId": cid, "status": "IN_PROGRESS"}
    assert status.headers["Retry-After"] == "1"
    sb.advance_clock(2)
    done = api.get(f"{SM}/shipments/create-commands/{cid}").json()
    assert done["status"] == "SUCCESS"
    shipment = api.get(f"{SM}/shipments/{done['shipmentId']}").json()
    (pkg,) = shipment["packages"]
    assert pkg["textOnLabel"] == "Zamówienie AL2611000017"
    assert pkg["transportingInfo"] == [
        {"carrierId": shipment["carrier"], "carrierWaybill": pkg["waybill"]}
    ]
    # Allegro attaches the waybill to the order by itself
    assert [s["waybill"] for s in sb.shipments_of(oid)] == [pkg["waybill"]]
    assert sb.stats()["requests"].get("shipments_post", 0) == 0


def test_waybills_appear_after_a_delay(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    sb.wza(waybill_delay_seconds=60)
    oid = order_with(connected)
    done = run_command(
        connected, create_input(connected, oid), "c0000000-0000-4000-8000-000000000002"
    )
    shipment = api.get(f"{SM}/shipments/{done['shipmentId']}").json()
    assert "waybill" not in shipment["packages"][0]
    assert sb.shipments_of(oid) == []
    label = api.post(f"{SM}/label", json={"shipmentIds": [done["shipmentId"]]})
    assert label.status_code == 400
    assert one_error(label)["code"] == "LABEL_NOT_READY"
    sb.advance_clock(60)
    later = api.get(f"{SM}/shipments/{done['shipmentId']}").json()
    assert later["packages"][0]["waybill"]


def test_label_pdf_has_a_page_per_parcel_with_receiver_waybill_and_text(
    connected: Connected,
) -> None:
    api = connected.api
    oid = order_with(connected, delivery="courier")
    inp = create_input(connected, oid)
    pkg = dict(inp["packages"][0], textOnLabel="Zamówienie nr 17 – żółć")
    inp["packages"] = [pkg, dict(pkg, textOnLabel="Druga paczka")]
    done = run_command(connected, inp, "c0000000-0000-4000-8000-000000000003")
    shipment = api.get(f"{SM}/shipments/{done['shipmentId']}").json()
    waybills = [p["waybill"] for p in shipment["packages"]]
    for size in ("A6", "A4"):
        r = api.post(f"{SM}/label", json={"shipmentIds": [done["shipmentId"]], "pageSize": size})
        assert r.status_code == 200
        assert r.content.startswith(b"%PDF")
        pages = pdf_text(r.content)
        assert len(pages) == (2 if size == "A6" else 1)
        text = "\n".join(pages)
        assert waybills[0] in text and waybills[1] in text
        assert "Zamówienie nr 17 – żółć" in text
        assert inp["receiver"]["name"] in text
    box = (
        pypdf.PdfReader(
            io.BytesIO(
                api.post(
                    f"{SM}/label", json={"shipmentIds": [done["shipmentId"]], "pageSize": "A6"}
                ).content
            )
        )
        .pages[0]
        .mediabox
    )
    assert (round(float(box.width)), round(float(box.height))) == (298, 420)


def test_zpl_label(connected: Connected) -> None:
    oid = order_with(connected)
    inp = create_input(connected, oid, labelFormat="ZPL")
    inp["packages"][0]["textOnLabel"] = "AL17"
    done = run_command(connected, inp, "c0000000-0000-4000-8000-000000000004")
    waybill = connected.api.get(f"{SM}/shipments/{done['shipmentId']}").json()["packages"][0][
        "waybill"
    ]
    r = connected.api.post(f"{SM}/label", json={"shipmentIds": [done["shipmentId"]]})
    text = r.content.decode()
    assert text.startswith("^XA") and text.rstrip().endswith("^XZ")
    assert f"^FD{waybill}^FS" in text and "^FDAL17^FS" in text


def test_errors_with_user_message_and_path(connected: Connected) -> None:
    oid = order_with(connected, delivery="locker")
    inp = create_input(connected, oid)
    inp["packages"][0]["weight"] = {"value": 26, "unit": "KILOGRAMS"}
    inp["packages"][0]["length"] = {"value": 70, "unit": "CENTIMETER"}
    done = run_command(connected, inp, "c0000000-0000-4000-8000-000000000005")
    assert done["status"] == "ERROR"
    assert [(e["path"], e["userMessage"]) for e in done["errors"]] == [
        ("input.packages[0].length", "Wymiary paczki przekraczają limit 64x38x41 cm"),
        ("input.packages[0].weight", "Waga paczki przekracza limit 25 kg"),
    ]
    # what the spec requires is refused at once
    inp["sender"].pop("phone")
    r = connected.api.post(f"{SM}/shipments/create-commands", json={"input": inp})
    assert r.status_code == 400
    assert [(e["path"], e["userMessage"]) for e in r.json()["errors"]] == [
        ("input.sender.phone", "Podaj numer telefonu nadawcy")
    ]
    assert "shipmentId" not in done
    assert connected.sandbox.wza_shipments_of(oid) == []


def test_opaque_errors_missing_receiver_email_insurance_below_cod_reused_command(
    connected: Connected,
) -> None:
    api = connected.api
    oid = order_with(connected, delivery="courier", payment_type="CASH_ON_DELIVERY")
    inp = create_input(connected, oid)
    inp["receiver"].pop("email")
    r = api.post(f"{SM}/shipments/create-commands", json={"input": inp})
    assert r.status_code == 400
    assert r.json()["errors"] == [
        {"code": "INTERNAL_ERROR", "message": OPAQUE, "path": None, "userMessage": OPAQUE}
    ]
    inp = create_input(connected, oid)
    inp["cashOnDelivery"]["iban"] = "PL61109010140000071219812874"
    inp["insurance"] = {"amount": "1.00", "currency": "PLN"}
    errs = run_command(connected, inp, "c0000000-0000-4000-8000-000000000007")["errors"]
    assert [e["userMessage"] for e in errs] == [OPAQUE]
    again = api.post(
        f"{SM}/shipments/create-commands",
        json={"commandId": "c0000000-0000-4000-8000-000000000007", "input": inp},
    )
    assert again.status_code == 400
    assert one_error(again)["userMessage"] == OPAQUE


def test_stuck_command_and_5xx_faults(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    oid = order_with(connected)
    sb.set_faults(seller="anna", stuck_commands=True)
    done = run_command(
        connected, create_input(connected, oid), "c0000000-0000-4000-8000-000000000008"
    )
    assert done["status"] == "IN_PROGRESS"
    sb.set_faults(seller="anna", stuck_commands=None, error_5xx=1.0, path_prefix=SM)
    r = api.get(f"{SM}/shipments/create-commands/c0000000-0000-4000-8000-000000000008")
    assert r.status_code == 500
    sb.clear_faults()
    r = api.get(f"{SM}/shipments/create-commands/c0000000-0000-4000-8000-000000000008")
    assert r.json()["status"] == "SUCCESS"
    assert len(sb.wza_shipments_of(oid)) == 1


def test_cancel_command(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    oid = order_with(connected)
    done = run_command(
        connected, create_input(connected, oid), "c0000000-0000-4000-8000-000000000009"
    )
    cid = "d0000000-0000-4000-8000-000000000001"
    body = {"commandId": cid, "input": {"shipmentId": done["shipmentId"]}}
    assert api.post(f"{SM}/shipments/cancel-commands", json=body).status_code == 200
    assert api.get(f"{SM}/shipments/cancel-commands/{cid}").json()["status"] == "IN_PROGRESS"
    sb.advance_clock(2)
    assert api.get(f"{SM}/shipments/cancel-commands/{cid}").json() == {
        "commandId": cid,
        "status": "SUCCESS",
        "shipmentId": done["shipmentId"],
    }
    assert "canceledDate" in api.get(f"{SM}/shipments/{done['shipmentId']}").json()
    assert (
        api.get(f"{SM}/shipments/cancel-commands/d0000000-0000-4000-8000-00000000ffff").status_code
        == 404
    )


def test_protocol_and_pickup(connected: Connected) -> None:
    sb, api = connected.sandbox, connected.api
    oid = order_with(connected, delivery="courier")
    done = run_command(
        connected, create_input(connected, oid), "c0000000-0000-4000-8000-00000000000a"
    )
    sid = done["shipmentId"]
    waybill = api.get(f"{SM}/shipments/{sid}").json()["packages"][0]["waybill"]
    protocol = api.post(f"{SM}/protocol", json={"shipmentIds": [sid]})
    assert protocol.status_code == 200
    assert waybill in "\n".join(pdf_text(protocol.content))
    proposals = api.post(
        f"{SM}/pickup-proposals", json={"shipmentIds": [sid], "address": SENDER}
    ).json()
    slot = proposals[0]["proposals"][0]["pickupTimes"][0]
    cid = "e0000000-0000-4000-8000-000000000001"
    body = {
        "commandId": cid,
        "input": {
            "shipmentIds": [sid],
            "pickupDateProposalId": "x",
            "pickupTime": slot,
            "address": SENDER,
        },
    }
    assert api.post(f"{SM}/pickups/create-commands", json=body).status_code == 200
    sb.advance_clock(2)
    status = api.get(f"{SM}/pickups/create-commands/{cid}").json()
    assert status["status"] == "SUCCESS"
    pickup = api.get(f"{SM}/pickups/{status['pickupId']}").json()
    assert pickup["shipmentIds"] == [sid] and pickup["waybills"] == [waybill]
    assert pickup["carrierPickupId"] == status["carrierPickupId"]


def test_scopes_are_required(connected: Connected) -> None:
    oid = order_with(connected)
    sb = connected.sandbox
    tokens = sb.connect_seller(
        "anna", "app-1", "secret-1", REDIRECT, scope="allegro:api:orders:read"
    )
    r = connected.api_for(tokens["access_token"]).get(f"{SM}/delivery-proposals/{oid}")
    assert r.status_code == 403
