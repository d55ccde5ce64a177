"""Administracja → Statusy zamówień over HTTP: pages, forms, refusals and tenant isolation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.statuses import create_status
from tests.factories import in_scope
from tests.orders.status_helpers import (
    SEEDED,
    positions,
    status_named,
    status_names,
    status_rows,
    statuses_url,
)

pytestmark = pytest.mark.django_db

COLOUR_ERROR = "Enter a colour as # and six hexadecimal digits, e.g. #1f7a3d."


@pytest.fixture(autouse=True)
def _english(client):
    # Assert the English source strings, whatever translations are installed.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"


def form_data(**overrides):
    data = {"name": "Reklamacja", "buyer_name": "", "colour": "#0ea5e9", "group": "other"}
    data.update(overrides)
    return data


def messages_of(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_list_shows_the_statuses_in_order_with_colour_tab_and_badges(administrator_client, tenant):
    response = administrator_client.get(statuses_url(tenant))

    assert response.status_code == 200
    assert [s.name for s in response.context["statuses"]] == [row[0] for row in SEEDED]
    html = response.content.decode()
    assert '<rect width="10" height="10" fill="#2563eb"/>' in html
    assert html.count('">Built-in</span>') == 3
    assert html.count('<span class="badge ok">Active</span>') == 7
    assert "Przygotowane do wysyłki" in html
    assert "To ship" in html
    assert 'style="' not in html  # CSP: style-src 'self' forbids inline styles


def test_the_navigation_links_to_the_statuses(administrator_client, tenant):
    response = administrator_client.get(reverse("tenant_home", args=[tenant.slug]))

    assert f'href="{statuses_url(tenant)}"' in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, tenant):
    response = client.get(statuses_url(tenant))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_staff_without_the_administrator_role_get_403_and_change_nothing(
    client, tenant, staff_user
):
    client.force_login(staff_user)
    nowe = status_named(tenant, "Wysłane")

    assert client.get(statuses_url(tenant)).status_code == 403
    assert client.post(statuses_url(tenant, "create"), form_data()).status_code == 403
    assert client.post(statuses_url(tenant, "delete", nowe)).status_code == 403
    assert client.post(statuses_url(tenant, "deactivate", nowe)).status_code == 403
    assert status_rows(tenant) == SEEDED


def test_administrators_of_another_tenant_get_404(client, tenant, other_admin):
    client.force_login(other_admin)

    assert client.get(statuses_url(tenant)).status_code == 404


@pytest.mark.parametrize(
    ("name", "method", "data"),
    [
        ("edit", "get", {}),
        ("edit", "post", form_data(name="Przejęte")),
        ("delete", "post", {}),
        ("deactivate", "post", {}),
        ("activate", "post", {}),
        ("move", "post", {"direction": "up"}),
    ],
)
def test_another_tenants_status_id_answers_404_and_stays_unchanged(
    administrator_client, tenant, other_tenant, name, method, data
):
    beta_status = status_named(other_tenant, "Wysłane")

    response = getattr(administrator_client, method)(
        reverse(f"administration:statuses:{name}", args=[tenant.slug, beta_status.pk]), data
    )

    assert response.status_code == 404
    assert status_rows(other_tenant) == SEEDED
    assert status_rows(tenant) == SEEDED


def test_a_missing_status_id_answers_404(administrator_client, tenant):
    with in_scope(tenant):
        missing = max(status.pk for status in status_named(tenant, "Nowe").__class__.objects.all())

    response = administrator_client.get(
        reverse("administration:statuses:edit", args=[tenant.slug, missing + 1000])
    )

    assert response.status_code == 404


def test_the_create_form_offers_a_colour_picker(administrator_client, tenant):
    response = administrator_client.get(statuses_url(tenant, "create"))

    html = response.content.decode()
    assert response.status_code == 200
    assert '<input type="color" name="colour" value="#6b7280"' in html
    assert '<select name="group"' in html


def test_create_adds_the_status_at_the_end(administrator_client, tenant):
    response = administrator_client.post(
        statuses_url(tenant, "create"),
        form_data(name="Czeka na towar", buyer_name="W przygotowaniu", colour="#0EA5E9"),
        follow=True,
    )

    assert response.redirect_chain == [(statuses_url(tenant), 302)]
    assert messages_of(response) == ["Status “Czeka na towar” added."]
    assert status_rows(tenant) == [
        *SEEDED,
        ("Czeka na towar", "W przygotowaniu", "#0ea5e9", "other", 71, True, False),
    ]


@pytest.mark.parametrize("name", ["Nowe", "nowe", "NOWE", " wysłane ", "ZWRÓCONE"])
def test_create_refuses_a_duplicate_name_in_any_case(administrator_client, tenant, name):
    response = administrator_client.post(statuses_url(tenant, "create"), form_data(name=name))

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["A status with this name already exists."]}
    assert "A status with this name already exists." in response.content.decode()
    assert status_rows(tenant) == SEEDED


@pytest.mark.parametrize("colour", ["red", "#12345", "#gggggg"])
def test_create_refuses_a_bad_colour(administrator_client, tenant, colour):
    response = administrator_client.post(statuses_url(tenant, "create"), form_data(colour=colour))

    assert response.status_code == 200
    assert response.context["form"].errors == {"colour": [COLOUR_ERROR]}
    assert COLOUR_ERROR in response.content.decode()
    assert status_rows(tenant) == SEEDED


def test_create_refuses_an_empty_form_with_words_a_seller_understands(administrator_client, tenant):
    response = administrator_client.post(statuses_url(tenant, "create"), {})

    assert response.status_code == 200
    assert response.context["form"].errors == {
        "name": ["Give the status a name."],
        "colour": ["Choose a colour."],
        "group": ["Choose the order-list tab."],
    }
    assert status_rows(tenant) == SEEDED


def test_create_refuses_an_unknown_tab(administrator_client, tenant):
    response = administrator_client.post(statuses_url(tenant, "create"), form_data(group="archive"))

    assert response.status_code == 200
    assert list(response.context["form"].errors) == ["group"]
    assert status_rows(tenant) == SEEDED


def test_edit_shows_the_current_values(administrator_client, tenant):
    nowe = status_named(tenant, "Nowe")

    response = administrator_client.get(statuses_url(tenant, "edit", nowe))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Edit status “Nowe”" in html
    assert '<input type="color" name="colour" value="#2563eb"' in html
    assert 'value="Przyjęte"' in html


def test_edit_renames_and_recolours_a_locked_status(administrator_client, tenant):
    nowe = status_named(tenant, "Nowe")

    response = administrator_client.post(
        statuses_url(tenant, "edit", nowe),
        form_data(name="Nowe zamówienia", buyer_name="Przyjęte", colour="#112233", group="new"),
        follow=True,
    )

    assert messages_of(response) == ["Status “Nowe zamówienia” saved."]
    rows = status_rows(tenant)
    assert rows[1] == ("Nowe zamówienia", "Przyjęte", "#112233", "new", 20, True, True)
    assert rows[:1] + rows[2:] == SEEDED[:1] + SEEDED[2:]


def test_edit_refuses_another_status_name_and_keeps_the_row(administrator_client, tenant):
    wyslane = status_named(tenant, "Wysłane")

    response = administrator_client.post(
        statuses_url(tenant, "edit", wyslane), form_data(name="anulowane", colour="#000000")
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"name": ["A status with this name already exists."]}
    assert "Edit status “Wysłane”" in response.content.decode()
    assert status_rows(tenant) == SEEDED


def test_edit_refuses_a_bad_colour_and_keeps_the_row(administrator_client, tenant):
    wyslane = status_named(tenant, "Wysłane")

    response = administrator_client.post(
        statuses_url(tenant, "edit", wyslane), form_data(name="Wysłane", colour="#gggggg")
    )

    assert response.context["form"].errors == {"colour": [COLOUR_ERROR]}
    assert status_rows(tenant) == SEEDED


def test_delete_removes_a_custom_status(administrator_client, tenant):
    with in_scope(tenant):
        custom = create_status(tenant, name="Reklamacja", colour="#000000", group="other")

    response = administrator_client.post(statuses_url(tenant, "delete", custom), follow=True)

    assert response.redirect_chain == [(statuses_url(tenant), 302)]
    assert messages_of(response) == ["Status “Reklamacja” deleted."]
    assert status_rows(tenant) == SEEDED


def test_delete_refuses_a_locked_status_with_a_message(administrator_client, tenant):
    anulowane = status_named(tenant, "Anulowane")

    response = administrator_client.post(statuses_url(tenant, "delete", anulowane), follow=True)

    assert response.redirect_chain == [(statuses_url(tenant), 302)]
    assert messages_of(response) == [
        "“Anulowane” is a built-in status the order import needs: you can rename and recolour "
        "it, but not delete it."
    ]
    assert status_rows(tenant) == SEEDED


def test_delete_needs_a_post(administrator_client, tenant):
    wyslane = status_named(tenant, "Wysłane")

    assert administrator_client.get(statuses_url(tenant, "delete", wyslane)).status_code == 405
    assert status_rows(tenant) == SEEDED


def test_deactivate_and_activate_a_custom_status(administrator_client, tenant):
    wyslane = status_named(tenant, "Wysłane")

    response = administrator_client.post(statuses_url(tenant, "deactivate", wyslane), follow=True)
    assert messages_of(response) == ["Status “Wysłane” is no longer offered for orders."]
    assert status_rows(tenant)[4] == (*SEEDED[4][:5], False, False)
    assert '<span class="badge warn">Inactive</span>' in response.content.decode()

    response = administrator_client.post(statuses_url(tenant, "activate", wyslane), follow=True)
    assert messages_of(response) == ["Status “Wysłane” is offered for orders again."]
    assert status_rows(tenant) == SEEDED


def test_deactivate_refuses_a_locked_status_with_a_message(administrator_client, tenant):
    niepotwierdzone = status_named(tenant, "Niepotwierdzone")

    response = administrator_client.post(
        statuses_url(tenant, "deactivate", niepotwierdzone), follow=True
    )

    assert messages_of(response) == [
        "“Niepotwierdzone” is a built-in status the order import needs: it cannot be deactivated."
    ]
    assert status_rows(tenant) == SEEDED


def test_move_up_and_down(administrator_client, tenant):
    zwrocone = status_named(tenant, "Zwrócone")

    response = administrator_client.post(
        statuses_url(tenant, "move", zwrocone), {"direction": "up"}
    )
    assert response.status_code == 302
    assert status_names(tenant)[-2:] == ["Zwrócone", "Anulowane"]

    administrator_client.post(statuses_url(tenant, "move", zwrocone), {"direction": "down"})
    assert status_names(tenant) == [row[0] for row in SEEDED]
    assert positions(tenant) == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize("data", [{}, {"direction": "left"}])
def test_move_refuses_an_unknown_direction(administrator_client, tenant, data):
    response = administrator_client.post(
        statuses_url(tenant, "move", status_named(tenant, "Nowe")), data
    )

    assert response.status_code == 400
    assert status_rows(tenant) == SEEDED
