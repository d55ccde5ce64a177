"""The offers list (search, filters, keyset pages), the channel card's import button and
progress fragment, and that none of them shows or touches another company's offers."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from catalog.models import ChannelCatalogState, Offer, Product, SweepState
from tests.support.channels import channel_of

pytestmark = pytest.mark.django_db


def _offers(channel, count: int, prefix: str = "", **fields) -> list[Offer]:
    with scope(tenant=channel.tenant):
        return [
            Offer.objects.create(
                tenant=channel.tenant,
                channel=channel,
                external_id=fields.get("external_id", f"{prefix}{channel.pk}{i:08d}"),
                name=fields.get("name", f"Kubek termiczny {i}"),
                sku=fields.get("sku", f"KUB-{i:03d}"),
                ean=fields.get("ean", ""),
                status=fields.get("status", "ACTIVE"),
                price=Decimal("49.00"),
                currency="PLN",
                stock_available=fields.get("stock_available", 5),
                removed_at=fields.get("removed_at"),
            )
            for i in range(count)
        ]


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _ids(response) -> list[str]:
    return [o.external_id for o in response.context["offers"]]


def test_search_filters_and_keyset_pages(tenant, admin_user) -> None:
    channel = channel_of(tenant)
    second = channel_of(tenant, alias="AD", name="Allegro drugie")
    many = _offers(channel, 60)
    (ean,) = _offers(second, 1, external_id="99", name="Lampka LED", sku="", ean="5901234123457")
    (zero,) = _offers(second, 1, external_id="98", name="Koc", sku="KOC-1", stock_available=0)
    (ended,) = _offers(second, 1, external_id="97", name="Patelnia", sku="PAT", status="ENDED")
    (gone,) = _offers(
        second, 1, external_id="96", name="Bidon", sku="BID", removed_at=timezone.now()
    )
    with scope(tenant=tenant):
        product = Product.objects.create(tenant=tenant, name="Kubek", sku="KUB-007")
        Offer.objects.filter(pk=many[7].pk).update(product=product, link="sku")
    client = _client(admin_user)
    url = reverse("catalog:offers", args=[tenant.slug])

    first = client.get(url)
    assert first.status_code == 200
    assert len(_ids(first)) == 50
    assert _ids(first)[0] == ended.external_id  # newest stored first; removed ones left out
    rest = client.get(f"{url}?{first.context['next_query']}")
    assert len(_ids(rest)) == 13
    assert rest.context["next_query"] == ""
    assert set(_ids(first)) & set(_ids(rest)) == set()
    assert len(set(_ids(first)) | set(_ids(rest))) == 63

    assert _ids(client.get(url, {"q": "kub-012"})) == [many[12].external_id]  # SKU, any case
    assert _ids(client.get(url, {"q": "5901234123457"})) == [ean.external_id]  # EAN
    assert _ids(client.get(url, {"q": many[3].external_id})) == [many[3].external_id]
    assert _ids(client.get(url, {"q": "lampka"})) == [ean.external_id]  # name
    assert _ids(client.get(url, {"stock_zero": "on"})) == [zero.external_id]
    assert _ids(client.get(url, {"status": "ENDED"})) == [ended.external_id]
    assert _ids(client.get(url, {"removed": "on"})) == [gone.external_id]
    assert _ids(client.get(url, {"linked": "yes"})) == [many[7].external_id]
    assert len(_ids(client.get(url, {"linked": "no", "channel": second.pk}))) == 3
    page = client.get(url, {"removed": "on"}).content.decode()
    assert "Removed on Allegro" in page


def test_another_companys_offers_and_channels_are_not_found(
    tenant, admin_user, other_tenant, other_admin
) -> None:
    mine = channel_of(tenant)
    theirs = channel_of(other_tenant)
    _offers(mine, 2)
    (their_offer,) = _offers(theirs, 1, external_id="55", name="Cudzy")
    client = _client(admin_user)
    url = reverse("catalog:offers", args=[tenant.slug])

    listed = client.get(url)
    assert their_offer.external_id not in _ids(listed) and len(_ids(listed)) == 2
    assert _ids(client.get(url, {"q": "55"})) == []
    assert client.get(url, {"channel": theirs.pk}).status_code == 404
    progress = reverse("catalog:offers_progress", args=[tenant.slug, theirs.pk])
    assert client.get(progress).status_code == 404
    start = reverse("catalog:offers_import", args=[tenant.slug, theirs.pk])
    assert client.post(start).status_code == 404
    with scopes_disabled():
        assert not ChannelCatalogState.objects.filter(channel=theirs).exists()
    # Their own page is theirs only.
    assert client.get(reverse("catalog:offers", args=[other_tenant.slug])).status_code == 404


def test_import_offers_is_for_administrators_and_one_at_a_time(
    tenant, admin_user, staff_user
) -> None:
    channel = channel_of(tenant)
    start = reverse("catalog:offers_import", args=[tenant.slug, channel.pk])
    assert _client(staff_user).post(start).status_code == 403
    with scopes_disabled():
        assert not ChannelCatalogState.objects.filter(channel=channel).exists()

    admin = _client(admin_user)
    done = admin.post(start, follow=True)
    with scopes_disabled():
        state = ChannelCatalogState.objects.get(channel=channel)
    assert (state.sweep_state, state.sweep_reason, state.sweep_run) == ("running", "manual", 1)
    assert done.redirect_chain[-1][0].endswith(
        reverse("administration:channels:detail", args=[tenant.slug, channel.pk]) + "#offers-import"
    )
    again = admin.post(start, follow=True)
    assert [m.message for m in again.context["messages"]] == [
        "The offers of this channel are being imported already."
    ] or [m.message for m in again.context["messages"]] == [
        "Oferty tego kanału są już importowane."
    ]
    with scopes_disabled():
        assert ChannelCatalogState.objects.get(channel=channel).sweep_run == 1


def test_the_channel_card_shows_progress_and_counts(tenant, admin_user) -> None:
    channel = channel_of(tenant)
    _offers(channel, 4)
    _offers(channel, 2, prefix="9", sku="")
    with scope(tenant=tenant):
        ChannelCatalogState.objects.create(
            tenant=tenant,
            channel=channel,
            sweep_state=SweepState.RUNNING,
            sweep_run=1,
            sweep_total=3000,
            sweep_done=1000,
            sweep_reason="cursor_expired",
        )
    client = _client(admin_user)
    page = client.get(reverse("administration:channels:detail", args=[tenant.slug, channel.pk]))
    html = page.content.decode()
    assert 'data-action="import-offers" disabled' in html
    assert 'value="33"' in html  # the progress bar
    assert 'data-notice="cursor-expired"' in html
    assert 'data-field="offer-count">6<' in html
    assert 'data-field="without-sku-count">2<' in html
    fragment = client.get(reverse("catalog:offers_progress", args=[tenant.slug, channel.pk]))
    assert 'hx-trigger="every 2s"' in fragment.content.decode()
    with scopes_disabled():
        ChannelCatalogState.objects.filter(channel=channel).update(
            sweep_state=SweepState.DONE, sweep_done=3000
        )
    fragment = client.get(reverse("catalog:offers_progress", args=[tenant.slug, channel.pk]))
    assert "hx-get" not in fragment.content.decode()


def test_products_made_from_the_chosen_offers_come_back_to_the_list(
    tenant, other_tenant, admin_user
) -> None:
    channel = channel_of(tenant)
    twins = _offers(channel, 2, sku="KUB-1")
    (alone,) = _offers(channel, 1, prefix="9", sku="KOC-7", stock_available=3)
    (theirs,) = _offers(channel_of(other_tenant), 1, prefix="8", sku="OBCY-1")
    client = _client(admin_user)
    url = reverse("catalog:offers", args=[tenant.slug])
    page = client.get(url, {"q": "Kubek"})
    assert b'data-action="create-products"' in page.content
    response = client.post(
        reverse("catalog:products_from_offers", args=[tenant.slug]),
        {
            "offer_ids": [twins[0].pk, twins[1].pk, alone.pk, theirs.pk],
            "from": "offers",
            "back": "q=Kubek",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"{url}?q=Kubek"
    with scope(tenant=tenant):
        made = {p.sku: p for p in Product.objects.all()}
        assert sorted(made) == ["KOC-7", "KUB-1"]
        assert made["KOC-7"].stock == 3
        assert {o.pk: o.product_id for o in Offer.objects.filter(channel=channel)} == {
            twins[0].pk: made["KUB-1"].pk,
            twins[1].pk: made["KUB-1"].pk,
            alone.pk: made["KOC-7"].pk,
        }
    with scopes_disabled():
        # Another company's offer id in the form: not touched.
        assert Offer.objects.get(pk=theirs.pk).product_id is None
        assert Product.objects.filter(tenant=other_tenant).count() == 0
