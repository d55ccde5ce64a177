"""The handover protocol of a day's labels against allegro_sandbox over HTTP: only that day's
made labels of the chosen courier account, the PDF stored for the tenant, the page, and another
tenant's protocol (404)."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from fulfillment.models import HandoverProtocol, LabelJob, LabelState, ProtocolState
from fulfillment.services.labels import protocols
from fulfillment.services.labels.errors import LabelError
from fulfillment.services.labels.jobs import create_label
from tests.labels.helpers import courier_account, fresh, pdf_pages, proposal_for, run
from tests.support.orders import import_orders

pytestmark = pytest.mark.django_db(transaction=True)

WARSAW = ZoneInfo("Europe/Warsaw")
DAY = date(2026, 12, 2)


def labels(channel, account, sandbox, count: int, seed: int) -> list[LabelJob]:
    orders = import_orders(channel, sandbox, count, delivery="courier", seed=seed)
    done = []
    for order in orders:
        proposal_for(order)
        with scope(tenant=order.tenant):
            done.append(run(create_label(order, account, parcels=None, actor=None)))
    assert {job.state for job in done} == {LabelState.READY}
    return done


def made_at(job: LabelJob, moment: datetime) -> LabelJob:
    with scopes_disabled():
        LabelJob.objects.filter(pk=job.pk).update(finished_at=moment)
    return fresh(job)


def protocol_text(protocol: HandoverProtocol) -> str:
    with scopes_disabled():
        protocol = HandoverProtocol.objects.get(pk=protocol.pk)
    with protocol.file.open("rb") as fh:
        return "\n".join(pdf_pages(fh.read()))


def test_the_protocol_of_a_day_lists_that_days_labels_of_the_account(
    channel, account, push_env, admin_user
) -> None:
    sb = push_env.sandbox
    first, second, yesterday, other = labels(channel, account, sb, 4, seed=51)
    # the first label early in the day in Warsaw (still the day before in UTC), the second late
    first = made_at(first, datetime(2026, 12, 2, 0, 30, tzinfo=WARSAW))
    second = made_at(second, datetime(2026, 12, 2, 23, 30, tzinfo=WARSAW))
    yesterday = made_at(yesterday, datetime(2026, 12, 1, 23, 30, tzinfo=WARSAW))
    elsewhere = courier_account(channel, name="Drugi magazyn")
    with scopes_disabled():
        LabelJob.objects.filter(pk=other.pk).update(courier_account=elsewhere)
    other = made_at(other, datetime(2026, 12, 2, 12, 0, tzinfo=WARSAW))
    with scope(tenant=channel.tenant):
        protocol = protocols.request_day_protocol(account, DAY, admin_user)
        assert protocol.wza_shipment_ids == [first.wza_shipment_id, second.wza_shipment_id]
        assert protocols.fetch(channel.tenant_id, protocol.pk) == ProtocolState.READY
    with scopes_disabled():
        protocol = HandoverProtocol.objects.get(pk=protocol.pk)
    assert protocol.state == ProtocolState.READY
    assert (
        protocol.file.name == f"{channel.tenant_id}/protocols/protocol-2026-12-02-{protocol.pk}.pdf"
    )
    text = protocol_text(protocol)
    assert first.waybills[0] in text and second.waybills[0] in text
    assert yesterday.waybills[0] not in text and other.waybills[0] not in text


def test_a_day_without_labels_is_refused_in_words(channel, account, push_env, admin_user) -> None:
    with scope(tenant=channel.tenant):
        with pytest.raises(LabelError) as refused:
            protocols.request_day_protocol(account, DAY, admin_user)
        assert refused.value.message == "This courier account made no labels on 2026-12-02."
        assert not HandoverProtocol.objects.exists()


def test_the_protocol_page_and_file(
    tenant, other_tenant, admin_user, other_admin, channel, account, push_env
) -> None:
    (job,) = labels(channel, account, push_env.sandbox, 1, seed=52)
    job = made_at(job, datetime(2026, 12, 2, 9, 0, tzinfo=WARSAW))
    c = Client()
    c.force_login(admin_user)
    url = f"/app/{tenant.slug}/fulfillment/protocols/"
    assert c.get(url).status_code == 200
    refused = c.post(url, {"day": "2026-12-01", "courier_account": account.pk})
    assert refused.status_code == 400
    assert "This courier account made no labels on 2026-12-01." in refused.content.decode()
    r = c.post(url, {"day": "2026-12-02", "courier_account": account.pk})
    assert r.status_code == 302
    with scopes_disabled():
        protocol = HandoverProtocol.objects.get(tenant=tenant)
    assert "Being fetched from Allegro" in c.get(url).content.decode()
    with scope(tenant=tenant):
        protocols.fetch(tenant.pk, protocol.pk)
    file_url = f"/app/{tenant.slug}/fulfillment/protocols/{protocol.pk}/file/"
    assert file_url in c.get(url).content.decode()
    response = c.get(file_url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert job.waybills[0] in "\n".join(pdf_pages(b"".join(response.streaming_content)))
    theirs = Client()
    theirs.force_login(other_admin)
    other = f"/app/{other_tenant.slug}/fulfillment/protocols/"
    assert theirs.get(f"{other}{protocol.pk}/file/").status_code == 404
    assert theirs.post(other, {"day": "2026-12-02", "courier_account": account.pk}).status_code == (
        404
    )
    assert protocol.pk not in [p.pk for p, _ in theirs.get(other).context["protocols"]]
