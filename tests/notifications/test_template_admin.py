"""Administracja → Szablony wiadomości: sets, the template editor (save-time errors, live
preview on a real order, "send test to me"), copies, the default sets, the channel's field."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from core.services import create_tenant
from notifications.models import MessageTemplate, TemplateSet
from tests.factories import UserFactory
from tests.notifications.template_helpers import import_form, mails
from tests.support.channels import make_channel
from tests.support.notifications import set_of, template_of
from tests.support.orders import status_of

pytestmark = pytest.mark.django_db

FIELDS = {
    "name": "Pytanie o adres",
    "trigger": "order_imported",
    "category": "other",
    "subject": "Pytanie o zamówienie {order.number}",
    "body_text": "Dzień dobry {buyer.name}, prosimy o numer mieszkania.",
    "body_html": "",
    "is_active": "on",
}


def _url(tenant, name, **kwargs):
    return reverse(
        f"administration:templates:{name}", kwargs={"tenant_slug": tenant.slug, **kwargs}
    )


@pytest.fixture
def admin(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_administrator_adds_a_set_and_a_template(admin, tenant):
    response = admin.post(_url(tenant, "set_create"), {"name": "Sklep", "language": "pl"})
    with scope(tenant=tenant):
        template_set = TemplateSet.objects.get(name="Sklep")
    assert response.status_code == 302
    response = admin.post(_url(tenant, "template_create", set_id=template_set.pk), FIELDS)
    assert response.status_code == 302
    with scope(tenant=tenant):
        template = MessageTemplate.objects.get(template_set=template_set)
    assert (template.name, template.subject, template.category) == (
        "Pytanie o adres",
        "Pytanie o zamówienie {order.number}",
        "other",
    )
    page = admin.get(_url(tenant, "set", set_id=template_set.pk)).content.decode()
    assert "Pytanie o adres" in page


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("subject", "Zamówienie {order.numer}", "Unknown variable {order.numer}."),
        ("body_text", "{order.__class__}", "reaches into a variable"),
        ("body_html", "<p>{order.total:>10}</p>", "formatting (“:” or “!”) is not allowed"),
        (
            "subject",
            "{order.tracking}",
            "This can be empty: it has only variables that some orders lack",
        ),
        ("body_text", "   ", "Write the plain-text body."),
    ],
)
def test_the_editor_refuses_what_cannot_be_rendered(admin, tenant, field, text, message):
    template_set = set_of(tenant)
    response = admin.post(
        _url(tenant, "template_create", set_id=template_set.pk), {**FIELDS, field: text}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    with scope(tenant=tenant):
        assert not MessageTemplate.objects.exists()


def test_a_status_template_needs_its_status(admin, tenant):
    template_set = set_of(tenant)
    response = admin.post(
        _url(tenant, "template_create", set_id=template_set.pk),
        {**FIELDS, "trigger": "status_entered"},
    )
    assert "Choose the status whose entry sends this mail." in response.content.decode()


def test_the_editor_lists_the_catalogue_and_says_why_categories_are_held(admin, tenant):
    page = admin.get(_url(tenant, "template_create", set_id=set_of(tenant).pk)).content.decode()
    assert "{order.customer_zone_url}" in page and "{order.items}" in page
    assert "since 20 October 2025" in page


def test_the_live_preview_renders_what_is_typed_on_a_real_order(admin, tenant):
    from tests.support.channels import channel_of

    order = import_form(channel_of(tenant))
    response = admin.post(
        _url(tenant, "preview", set_id=set_of(tenant).pk),
        {
            "subject": "Zamówienie {order.number}",
            "body_text": "{order.items}",
            "body_html": "<b>{buyer.name}</b>",
            "preview_order": str(order.pk),
        },
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert f'<span class="preview-subject">Zamówienie {order.number}</span>' in page
    assert '<pre class="preview-text">1 × Name of purchased offer — 123.45 PLN</pre>' in page
    assert 'srcdoc="&lt;b&gt;Jan Kowalski&lt;/b&gt;"' in page
    assert mails() == []  # a preview writes nothing


def test_the_preview_shows_the_problems_instead(admin, tenant):
    response = admin.post(
        _url(tenant, "preview", set_id=set_of(tenant).pk),
        {"subject": "{nope}", "body_text": "x", "body_html": ""},
    )
    assert "Unknown variable {nope}." in response.content.decode()


def test_send_test_to_me_queues_a_test_mail_to_the_logged_in_user(admin, tenant, admin_user):
    from tests.support.channels import channel_of

    order = import_form(channel_of(tenant))
    response = admin.post(
        _url(tenant, "send_test", set_id=set_of(tenant).pk),
        {
            "subject": "Zamówienie {order.number}",
            "body_text": "Dzień dobry {buyer.name}",
            "preview_order": str(order.pk),
        },
    )
    assert "A test mail to admin@alfa.example is on its way." in response.content.decode()
    [row] = mails(kind="test")
    assert (row.to_address, row.subject, row.text, row.order_id, row.state) == (
        "admin@alfa.example",
        f"[Test] Zamówienie {order.number}",
        "Dzień dobry Jan Kowalski",
        None,
        "queued",
    )


def test_a_set_is_copied_with_its_templates(admin, tenant):
    template_set = set_of(tenant)
    template_of(tenant, template_set, name="A")
    template_of(
        tenant, template_set, name="B", trigger="status_entered", status=status_of(tenant, "sent")
    )
    response = admin.post(_url(tenant, "set_copy", set_id=template_set.pk), {"name": "Kopia"})
    assert response.status_code == 302
    with scope(tenant=tenant):
        copy = TemplateSet.objects.get(name="Kopia")
        copied = sorted((t.name, t.trigger, t.status_id, t.subject) for t in copy.templates.all())
        original = sorted(
            (t.name, t.trigger, t.status_id, t.subject) for t in template_set.templates.all()
        )
    assert copied == original and len(copied) == 2


def test_a_new_company_starts_with_the_default_sets_in_polish_and_english(db):
    owner = UserFactory(email="owner@gamma.example")
    tenant = create_tenant(name="Gamma", slug="gamma", owner=owner)
    with scope(tenant=tenant):
        sets = {s.name: s for s in TemplateSet.objects.all()}
        assert {name: s.language for name, s in sets.items()} == {
            "Domyślny (polski)": "pl",
            "Default (English)": "en",
        }
        for template_set in sets.values():
            assert sorted(t.trigger for t in template_set.templates.all()) == [
                "order_imported",
                "shipment_added",
                "status_entered",
            ]
        polish = sets["Domyślny (polski)"].templates.get(trigger="status_entered")
        assert polish.status.system_code == "sent"


def test_the_channel_form_offers_only_the_companys_own_sets(admin, tenant, other_tenant):
    mine = set_of(tenant, "Mój zestaw")
    theirs = set_of(other_tenant, "Cudzy zestaw")
    channel = make_channel(tenant)
    url = reverse(
        "administration:channels:edit",
        kwargs={"tenant_slug": tenant.slug, "channel_id": channel.pk},
    )
    page = admin.get(url).content.decode()
    assert "Mój zestaw" in page and "Cudzy zestaw" not in page
    assert "held back, not sent" in page
    assert "do not send it" in page  # backfilled orders and the seller's mail
    data = {
        "name": channel.name,
        "alias": channel.alias,
        "allegro_login": channel.allegro_login,
        "allegro_environment": "local",
        "backfill_days": 0,
        "template_set": theirs.pk,
    }
    response = admin.post(url, data)
    assert response.status_code == 200  # refused: not a choice
    admin.post(url, {**data, "template_set": mine.pk})
    with scope(tenant=tenant):
        channel.refresh_from_db()
    assert channel.template_set_id == mine.pk


def test_the_data_migration_gives_existing_companies_the_default_sets(tenant):
    from importlib import import_module

    from django.apps import apps

    migration = import_module("notifications.migrations.0003_seed_default_template_sets")
    with scope(tenant=tenant):
        assert not TemplateSet.objects.exists()  # made before the sets existed
    with scopes_disabled():  # as in a migration: no company's scope
        migration.seed(apps, None)
        migration.seed(apps, None)  # run twice: nothing doubled
    with scope(tenant=tenant):
        assert sorted(TemplateSet.objects.values_list("name", "language")) == [
            ("Default (English)", "en"),
            ("Domyślny (polski)", "pl"),
        ]
        assert MessageTemplate.objects.count() == 6
