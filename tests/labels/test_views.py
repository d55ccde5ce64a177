"""The label pages over HTTP: courier accounts, the label page, files only for their tenant."""

from __future__ import annotations

import pytest
from django.test import Client
from django_scopes import scope, scopes_disabled

from fulfillment.models import CourierAccount, LabelBatch, LabelJob, LabelState
from tests.labels.helpers import SENDER, proposal_for, run
from tests.support.orders import import_orders

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def test_courier_account_form_requires_email_phone_and_a_valid_iban(
    tenant, admin_user, channel
) -> None:
    c = client_for(admin_user)
    url = f"/app/{tenant.slug}/administration/fulfillment/couriers/add/"
    assert c.get(url).status_code == 200
    data = {k: v for k, v in SENDER.items() if k not in ("email", "phone")}
    data.update(channel=channel.pk, cod_iban="PL61 1090 1014 0000 0712 1981 2875")
    r = c.post(url, data)
    assert r.status_code == 400
    errors = r.context["form"].errors
    assert errors["email"] == ["This field is required."]
    assert errors["phone"] == ["This field is required."]
    assert errors["cod_iban"] == ["This account number has a typo: its check digits do not match."]
    data.update(
        email="a@b.example", phone="500600700", cod_iban="PL61 1090 1014 0000 0712 1981 2874"
    )
    r = c.post(url, data)
    assert r.status_code == 302
    with scopes_disabled():
        account = CourierAccount.objects.get(tenant=tenant)
    assert account.cod_iban == "PL61109010140000071219812874"


def test_label_from_the_order_page(tenant, admin_user, channel, account, push_env) -> None:
    c = client_for(admin_user)
    (order,) = import_orders(channel, push_env.sandbox, 1, delivery="courier", seed=11)
    proposal_for(order)
    url = f"/app/{tenant.slug}/fulfillment/orders/{order.pk}/label/"
    page = c.get(url)
    assert page.status_code == 200
    assert f"Zamówienie {order.number} – dziękujemy!" in page.content.decode()
    r = c.post(
        url,
        {
            "courier_account": account.pk,
            "parcel-TOTAL_FORMS": "2",
            "parcel-INITIAL_FORMS": "0",
            "parcel-MIN_NUM_FORMS": "1",
            "parcel-MAX_NUM_FORMS": "20",
            **{
                f"parcel-{i}-{k}": v
                for i in (0, 1)
                for k, v in {
                    "package_type": "PACKAGE",
                    "length_cm": "30",
                    "width_cm": "20",
                    "height_cm": "10",
                    "weight_kg": "2",
                }.items()
            },
        },
    )
    assert r.status_code == 302
    with scopes_disabled():
        job = LabelJob.objects.get(order=order)
    job = run(job)
    assert job.state == LabelState.READY and len(job.waybills) == 2
    detail = c.get(f"/app/{tenant.slug}/orders/{order.pk}/").content.decode()
    assert job.waybills[0] in detail
    pdf = c.get(f"/app/{tenant.slug}/fulfillment/labels/{job.pk}/file/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")


def test_unsupported_method_keeps_the_manual_form(
    tenant, admin_user, channel, account, push_env
) -> None:
    c = client_for(admin_user)
    (order,) = import_orders(channel, push_env.sandbox, 1, seed=12)
    push_env.sandbox.set_delivery_method(order.external_id, "Kurier (umowa własna)")
    proposal_for(order)
    detail = c.get(f"/app/{tenant.slug}/orders/{order.pk}/").content.decode()
    assert 'data-notice="unsupported"' in detail
    assert 'id="add-shipment"' in detail
    assert 'data-action="make-label"' not in detail


def test_another_tenants_courier_account_and_label_files_answer_404(
    tenant, other_tenant, admin_user, other_admin, channel, account, push_env
) -> None:
    (order,) = import_orders(channel, push_env.sandbox, 1, delivery="courier", seed=13)
    proposal_for(order)
    with scope(tenant=tenant):
        from fulfillment.services.labels.jobs import create_label

        job = run(create_label(order, account, parcels=None, actor=admin_user))
        batch = LabelBatch.objects.create(tenant=tenant, courier_account=account)
    assert job.state == LabelState.READY
    mine = client_for(admin_user)
    theirs = client_for(other_admin)
    base, other = f"/app/{tenant.slug}", f"/app/{other_tenant.slug}"
    assert mine.get(f"{base}/fulfillment/labels/{job.pk}/file/").status_code == 200
    for path in (
        f"/administration/fulfillment/couriers/{account.pk}/",
        f"/fulfillment/labels/{job.pk}/file/",
        f"/fulfillment/labels/batches/{batch.pk}/",
        f"/fulfillment/labels/batches/{batch.pk}/file/",
        f"/fulfillment/orders/{order.pk}/label/",
    ):
        assert theirs.get(other + path).status_code == 404, path
    assert theirs.post(f"{other}/fulfillment/labels/{job.pk}/cancel/").status_code == 404
    assert (
        theirs.post(f"{other}/administration/fulfillment/couriers/{account.pk}/delete/").status_code
        == 404
    )


def test_errors_on_the_order_page_allegros_words_with_the_field_and_ours_for_opaque_ones(
    tenant, admin_user, channel, account, push_env
) -> None:
    from fulfillment.services.labels.jobs import create_label
    from fulfillment.services.labels.proposals import Proposal

    (order,) = import_orders(channel, push_env.sandbox, 1, delivery="courier", seed=14)
    with scope(tenant=tenant):
        # no receiver at all: Allegro's opaque refusal
        opaque = run(
            create_label(order, account, parcels=None, actor=admin_user, proposal=Proposal())
        )
    proposal_for(order)
    with scope(tenant=tenant):
        job = create_label(order, account, parcels=None, actor=admin_user)
        job.shipment_input["packages"][0]["textOnLabel"] = "x" * 101
        job.save(update_fields=["shipment_input"])
    job = run(job)
    assert (opaque.state, job.state) == (LabelState.ERROR, LabelState.ERROR)
    page = client_for(admin_user).get(f"/app/{tenant.slug}/orders/{order.pk}/").content.decode()
    assert "Tekst na etykiecie może mieć najwyżej 100 znaków" in page
    assert "(input.packages[0].textOnLabel)" in page
    assert "The receiver&#x27;s e-mail is missing" in page
    assert "Problem z nadaniem przesyłki. Skontaktuj się z nami" not in page


def test_a_channel_authorized_before_labels_asks_to_authorize_again(
    tenant, admin_user, channel
) -> None:
    from channels.models import AllegroCredential

    url = f"/app/{tenant.slug}/administration/channels/{channel.pk}/"
    c = client_for(admin_user)
    assert 'data-notice="label-scopes"' not in c.get(url).content.decode()
    with scopes_disabled():
        AllegroCredential.objects.filter(channel=channel).update(
            scopes="allegro:api:profile:read allegro:api:orders:read allegro:api:orders:write"
        )
    page = c.get(url).content.decode()
    assert 'data-notice="label-scopes"' in page
    assert 'data-action="authorize"' in page


@pytest.mark.parametrize(
    ("delivery", "payment", "language", "words"),
    [
        ("courier", "ONLINE", "en", ("Courier to the door", "DOOR", "Paid in advance", "PREPAID")),
        (
            "courier",
            "CASH_ON_DELIVERY",
            "pl",
            ("Kurier pod drzwi", "DOOR", "Za pobraniem", "POSTPAID"),
        ),
        ("locker", "ONLINE", "pl", ("Automat paczkowy", "APM", "Przedpłata", "PREPAID")),
    ],
)
def test_the_delivery_option_in_the_sellers_words(
    tenant, admin_user, channel, account, push_env, delivery, payment, language, words
) -> None:
    c = client_for(admin_user)
    c.cookies["django_language"] = language
    (order,) = import_orders(
        channel, push_env.sandbox, 1, delivery=delivery, payment_type=payment, seed=17
    )
    proposal_for(order)
    page = c.get(f"/app/{tenant.slug}/fulfillment/orders/{order.pk}/label/")
    delivery_name, delivery_code, payment_name, payment_code = words
    assert (
        f'<dd data-field="delivery-option"><span title="{delivery_code}">{delivery_name}</span>'
        f' · <span title="{payment_code}">{payment_name}</span></dd>'
    ) in page.content.decode()
