"""Labels through Wysyłam z Allegro against allegro_sandbox over HTTP: one order end to end,
errors, limits, unsupported delivery methods, SENT pushed once, cancelling.

Jobs are advanced in the test process as their task would (tests/labels/test_worker.py runs a
real Celery worker)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scope, scopes_disabled

from channels.models import SalesChannel
from fulfillment.models import FulfillmentPush, LabelState, PushKind, Shipment
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.inputs import Parcel
from fulfillment.services.labels.jobs import cancel_label, create_label, retry_label
from fulfillment.services.push import process_order
from notifications.models import OutgoingMail
from orders.models import OrderEvent, OrderEventKind
from tests.labels.helpers import courier_account, fresh, pdf_pages, proposal_for, run
from tests.support.notifications import set_of, template_of
from tests.support.orders import import_orders

pytestmark = pytest.mark.django_db(transaction=True)


def make(order, account, parcels=None, actor=None):
    with scope(tenant=order.tenant):
        return create_label(order, account, parcels=parcels, actor=actor)


def test_one_order_end_to_end(channel, account, push_env, admin_user) -> None:
    sb = push_env.sandbox
    (order,) = import_orders(channel, sb, 1, delivery="courier", seed=3)
    proposal = proposal_for(order)
    assert proposal.option is not None and proposal.option.delivery_type == "DOOR"
    job = run(make(order, account, actor=admin_user))
    assert job.state == LabelState.READY
    (waybill,) = job.waybills
    # the label file, stored for the tenant, shows the waybill and the rendered comment
    with job.file.open("rb") as fh:
        pages = pdf_pages(fh.read())
    assert len(pages) == 1
    assert waybill in pages[0]
    assert f"Zamówienie {order.number} – dziękujemy!" in pages[0]
    assert job.file.name.startswith(f"{order.tenant_id}/orders/{order.pk}/")
    with scopes_disabled():
        (shipment,) = Shipment.objects.filter(order=order)
        assert (shipment.carrier_id, shipment.waybill) == ("DPD", waybill)
        entry = OrderEvent.objects.filter(order=order, kind=OrderEventKind.LABEL).get()
        assert entry.data == {
            "job": job.pk,
            "outcome": "made",
            "carrier": "DPD",
            "waybills": [waybill],
        }
        (push,) = FulfillmentPush.objects.filter(order=order)
        assert (push.kind, push.target_status) == (PushKind.STATUS, "SENT")
    with scope(tenant=order.tenant):
        process_order(order.tenant_id, order.pk)
    assert sb.fulfillment_of(order.external_id)["status"] == "SENT"
    # Allegro attached the waybill itself; we never posted it
    assert [s["waybill"] for s in sb.shipments_of(order.external_id)] == [waybill]
    assert sb.stats()["requests"].get("shipments_post", 0) == 0
    assert sb.fulfillment_of(order.external_id)["changes"] == 1


def test_error_shows_allegros_words_and_retries_after_a_fix(channel, push_env) -> None:
    sb = push_env.sandbox
    account = courier_account(
        channel, name="Bez telefonu", length_cm=Decimal("70"), weight_kg=Decimal("30")
    )
    (order,) = import_orders(channel, sb, 1, delivery="locker", seed=4)
    proposal_for(order)
    # our limits would stop it: send it without the proposal (a batch does that) to see Allegro's
    with scope(tenant=order.tenant):
        from django.core.cache import cache

        cache.clear()
    job = run(make(order, account))
    assert job.state == LabelState.ERROR
    assert [e["userMessage"] for e in job.errors] == [
        "Parcel 1 is larger than this delivery allows (64×38×41 cm).",
        "Parcel 1 weighs more than this delivery allows (25 kg).",
    ]
    with scope(tenant=order.tenant):
        account.length_cm, account.weight_kg = Decimal("30"), Decimal("2")
        account.save()
        assert retry_label(
            job,
            None,
            parcels=[Parcel("PACKAGE", Decimal(30), Decimal(20), Decimal(10), Decimal(2))],
        )
    job = run(fresh(job))
    assert job.state == LabelState.READY
    assert job.attempt == 2
    assert len(sb.wza_shipments_of(order.external_id)) == 1


def test_allegro_error_message_and_path_are_kept(channel, account, push_env) -> None:
    sb = push_env.sandbox
    (order,) = import_orders(channel, sb, 1, delivery="locker", seed=5)
    proposal_for(order)
    # Allegro's own limit check (ours is left out by sending a heavier parcel than we allow?
    # no: the proposal says 25 kg; Allegro's ERROR comes from a parcel we cannot pre-check)
    job = make(
        order,
        account,
        parcels=[Parcel("PACKAGE", Decimal(30), Decimal(20), Decimal(10), Decimal(2))],
    )
    with scopes_disabled():
        job.shipment_input["packages"][0]["textOnLabel"] = "x" * 150
        job.save(update_fields=["shipment_input"])
    job = run(job)
    assert job.state == LabelState.ERROR
    assert job.errors == [
        {
            "code": "VALIDATION_ERROR",
            "path": "input.packages[0].textOnLabel",
            "userMessage": "Tekst na etykiecie może mieć najwyżej 100 znaków",
            "message": "Tekst na etykiecie może mieć najwyżej 100 znaków",
        }
    ]


def test_limits_are_validated_before_sending(channel, account, push_env) -> None:
    sb = push_env.sandbox
    (order,) = import_orders(channel, sb, 1, delivery="locker", seed=6)
    proposal_for(order)
    before = sb.stats()["requests"].get("wza_create", 0)
    with pytest.raises(LabelError) as exc:
        make(
            order,
            account,
            parcels=[Parcel("PACKAGE", Decimal(30), Decimal(20), Decimal(10), Decimal(26))],
        )
    assert exc.value.message == "Parcel 1 weighs more than this delivery allows (25 kg)."
    assert sb.stats()["requests"].get("wza_create", 0) == before


def test_unsupported_delivery_method(channel, account, push_env) -> None:
    sb = push_env.sandbox
    (order,) = import_orders(channel, sb, 1, seed=7)
    sb.set_delivery_method(order.external_id, "Odbiór osobisty")
    assert proposal_for(order).unsupported
    with pytest.raises(LabelError) as exc:
        make(order, account)
    assert exc.value.message == "Wysyłam z Allegro does not serve this order's delivery method."


def test_cancel(channel, account, push_env) -> None:
    sb = push_env.sandbox
    (order,) = import_orders(channel, sb, 1, delivery="courier", seed=8)
    proposal_for(order)
    job = run(make(order, account))
    with scope(tenant=order.tenant):
        assert cancel_label(job, None)
    job = run(fresh(job))
    assert job.state == LabelState.CANCELLED
    (shipment,) = sb.wza_shipments_of(order.external_id)
    assert "canceledDate" in shipment


def test_fifty_orders_in_one_file(channel, account, push_env, admin_user) -> None:
    from fulfillment.services.labels.batches import assemble, create_batch

    sb = push_env.sandbox
    orders = import_orders(channel, sb, 50, delivery="courier", seed=30)
    with scope(tenant=channel.tenant):
        batch, skipped = create_batch(orders, account, admin_user)
        assert skipped == []
        batch_jobs = list(batch.jobs.order_by("id"))
    assert len(batch_jobs) == 50
    done = [run(job) for job in batch_jobs]
    assert {job.state for job in done} == {LabelState.READY}
    with scope(tenant=channel.tenant):
        assert assemble(channel.tenant_id, batch.pk)
        batch.refresh_from_db()
    with batch.file.open("rb") as fh:
        pages = pdf_pages(fh.read())
    assert len(pages) == 50
    for page, job in zip(pages, done, strict=True):
        assert job.waybills[0] in page
        assert f"Zamówienie {job.order.number} – dziękujemy!" in page
    # one label request for the fifty: the batch's jobs fetch no file of their own
    assert sb.stats()["requests"]["wza_label"] == 1
    assert {job.file.name for job in done} == {""}


def test_sent_is_pushed_once_even_when_the_account_moves_the_status(channel, push_env) -> None:
    from tests.support.orders import status_of

    sb = push_env.sandbox
    sent = status_of(channel.tenant, "sent")
    account = courier_account(channel, name="Ze statusem", status_after_label=sent)
    (order,) = import_orders(channel, sb, 1, delivery="courier", seed=9)
    proposal_for(order)
    job = run(make(order, account))
    assert job.state == LabelState.READY
    with scopes_disabled():
        pushes = list(FulfillmentPush.objects.filter(order=order))
        assert [(p.kind, p.target_status) for p in pushes] == [(PushKind.STATUS, "SENT")]
        assert job.order.__class__.objects.get(pk=order.pk).status_id == sent.pk
    with scope(tenant=order.tenant):
        process_order(order.tenant_id, order.pk)
    assert sb.fulfillment_of(order.external_id)["changes"] == 1


def test_handover_protocol_of_a_batch(channel, account, push_env, admin_user) -> None:
    from fulfillment.services.labels.batches import (
        assemble,
        create_batch,
        fetch_protocol,
        request_protocol,
    )

    sb = push_env.sandbox
    orders = import_orders(channel, sb, 3, delivery="courier", seed=31)
    with scope(tenant=channel.tenant):
        batch, _ = create_batch(orders, account, admin_user)
        done = [run(job) for job in batch.jobs.order_by("id")]
        assert assemble(channel.tenant_id, batch.pk)
        assert request_protocol(batch)
        assert fetch_protocol(channel.tenant_id, batch.pk) == "ready"
        batch.refresh_from_db()
    with batch.protocol_file.open("rb") as fh:
        text = "\n".join(pdf_pages(fh.read()))
    assert all(job.waybills[0] in text for job in done)
    assert batch.protocol_file.name == f"{channel.tenant_id}/batches/protocol-{batch.pk}.pdf"


def test_a_label_mails_the_label_generated_template_once(channel, account, push_env) -> None:
    template_set = set_of(channel.tenant)
    template = template_of(
        channel.tenant,
        template_set,
        trigger="label_generated",
        subject="Przesyłka {order.number}",
        body_text="Numer przesyłki: {shipment.waybill}",
    )
    with scopes_disabled():
        SalesChannel.objects.filter(pk=channel.pk).update(template_set=template_set)
    (order,) = import_orders(channel, push_env.sandbox, 1, delivery="courier", seed=5)
    proposal_for(order)
    job = run(make(order, account))
    assert job.state == LabelState.READY
    (waybill,) = job.waybills
    with scopes_disabled():
        label_mails = list(
            OutgoingMail.objects.filter(order=order, dedupe_key__contains="label_generated")
        )
    assert [(m.dedupe_key, m.subject, m.text) for m in label_mails] == [
        (
            f"template:{template.pk}:order:{order.pk}:label_generated:{job.shipment_id}",
            f"Przesyłka {order.number}",
            f"Numer przesyłki: {waybill}",
        )
    ]
