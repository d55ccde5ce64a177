"""orders.statuses for the tenant's statuses: every write, and every refusal leaving no trace."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from orders.models import OrderStatus
from orders.statuses import (
    StatusLocked,
    StatusNameTaken,
    create_status,
    delete_status,
    move_status,
    set_status_active,
    update_status,
)
from tests.factories import in_scope
from tests.orders.status_helpers import (
    SEEDED,
    positions,
    status_named,
    status_names,
    status_rows,
)

pytestmark = pytest.mark.django_db


def test_create_status_appends_it_after_the_last_one(tenant):
    with in_scope(tenant):
        status = create_status(
            tenant, name="  Czeka na towar ", colour="#0EA5E9", group="in_progress",
            buyer_name=" W przygotowaniu ",
        )  # fmt: skip

    assert status.tenant_id == tenant.pk
    assert status_rows(tenant) == [
        *SEEDED,
        ("Czeka na towar", "W przygotowaniu", "#0ea5e9", "in_progress", 71, True, False),
    ]
    assert status.system_code == ""


@pytest.mark.parametrize("name", ["Nowe", "nowe", "NOWE", " nOwE "])
def test_create_status_refuses_a_name_taken_in_any_letter_case(tenant, name):
    with in_scope(tenant), pytest.raises(StatusNameTaken) as refused:
        create_status(tenant, name=name, colour="#000000", group="new")

    assert refused.value.message == "A status with this name already exists."
    assert status_rows(tenant) == SEEDED


def test_create_status_allows_a_name_another_tenant_uses(tenant, other_tenant):
    with in_scope(tenant):
        create_status(tenant, name="Reklamacja", colour="#000000", group="other")
    with in_scope(other_tenant):
        create_status(other_tenant, name="reklamacja", colour="#ffffff", group="other")

    assert status_names(tenant)[-1] == "Reklamacja"
    assert status_names(other_tenant)[-1] == "reklamacja"


@pytest.mark.parametrize("colour", ["red", "#12345", "#gggggg", "", "#1234567"])
def test_create_status_refuses_a_bad_colour(tenant, colour):
    with in_scope(tenant), pytest.raises(ValidationError) as refused:
        create_status(tenant, name="Reklamacja", colour=colour, group="other")

    assert "colour" in refused.value.message_dict
    assert status_rows(tenant) == SEEDED


def test_update_status_renames_and_recolours_a_locked_status(tenant):
    nowe = status_named(tenant, "Nowe")
    with in_scope(tenant):
        update_status(
            nowe, name="Nowe zamówienia", buyer_name="", colour="#ABCDEF", group="in_progress"
        )

    rows = status_rows(tenant)
    assert rows[1] == ("Nowe zamówienia", "", "#abcdef", "in_progress", 20, True, True)
    assert rows[:1] + rows[2:] == SEEDED[:1] + SEEDED[2:]


def test_update_status_may_change_the_letter_case_of_its_own_name(tenant):
    nowe = status_named(tenant, "Nowe")
    with in_scope(tenant):
        update_status(nowe, name="NOWE", buyer_name="Przyjęte", colour="#2563eb", group="new")

    assert status_names(tenant)[1] == "NOWE"


def test_update_status_refuses_another_status_name(tenant):
    wyslane = status_named(tenant, "Wysłane")
    with in_scope(tenant), pytest.raises(StatusNameTaken):
        update_status(wyslane, name="zwrócone", buyer_name="", colour="#000000", group="other")

    assert status_rows(tenant) == SEEDED


def test_delete_status_removes_a_custom_status(tenant):
    with in_scope(tenant):
        custom = create_status(tenant, name="Reklamacja", colour="#000000", group="other")
        delete_status(custom)

    assert status_rows(tenant) == SEEDED


@pytest.mark.parametrize("name", ["Niepotwierdzone", "Nowe", "Anulowane"])
def test_delete_status_refuses_a_locked_status(tenant, name):
    status = status_named(tenant, name)
    with in_scope(tenant), pytest.raises(StatusLocked) as refused:
        delete_status(status)

    assert refused.value.message == (
        f"“{name}” is a built-in status the order import needs: you can rename and recolour it, "
        "but not delete it."
    )
    assert status_rows(tenant) == SEEDED


def test_deleting_a_seeded_status_that_is_not_locked_is_allowed(tenant):
    with in_scope(tenant):
        delete_status(status_named(tenant, "Zwrócone"))

    assert status_rows(tenant) == SEEDED[:-1]


def test_set_status_active_deactivates_and_activates_again(tenant):
    wyslane = status_named(tenant, "Wysłane")
    with in_scope(tenant):
        set_status_active(wyslane, False)
    assert status_rows(tenant)[4] == (*SEEDED[4][:5], False, False)

    with in_scope(tenant):
        set_status_active(wyslane, True)
    assert status_rows(tenant) == SEEDED


def test_set_status_active_refuses_to_deactivate_a_locked_status(tenant):
    anulowane = status_named(tenant, "Anulowane")
    with in_scope(tenant), pytest.raises(StatusLocked) as refused:
        set_status_active(anulowane, False)

    assert refused.value.message == (
        "“Anulowane” is a built-in status the order import needs: it cannot be deactivated."
    )
    assert status_rows(tenant) == SEEDED


def test_move_status_up_swaps_it_with_the_one_above_and_numbers_from_one(tenant):
    with in_scope(tenant):
        moved = move_status(status_named(tenant, "Wysłane"), "up")

    expected = [
        "Niepotwierdzone", "Nowe", "W realizacji", "Wysłane", "Do wysłania", "Anulowane",
        "Zwrócone",
    ]  # fmt: skip
    assert [status.name for status in moved] == expected
    assert status_names(tenant) == expected
    assert positions(tenant) == [1, 2, 3, 4, 5, 6, 7]


def test_move_status_down(tenant):
    with in_scope(tenant):
        move_status(status_named(tenant, "Niepotwierdzone"), "down")

    assert status_names(tenant)[:3] == ["Nowe", "Niepotwierdzone", "W realizacji"]
    assert positions(tenant) == [1, 2, 3, 4, 5, 6, 7]


@pytest.mark.parametrize(("name", "direction"), [("Niepotwierdzone", "up"), ("Zwrócone", "down")])
def test_moving_past_either_end_keeps_the_order(tenant, name, direction):
    with in_scope(tenant):
        move_status(status_named(tenant, name), direction)

    assert status_names(tenant) == [row[0] for row in SEEDED]
    assert positions(tenant) == [1, 2, 3, 4, 5, 6, 7]


def test_move_status_refuses_an_unknown_direction(tenant):
    with in_scope(tenant), pytest.raises(ValueError):
        move_status(status_named(tenant, "Nowe"), "sideways")

    assert status_rows(tenant) == SEEDED


def test_moves_never_touch_another_tenant(tenant, other_tenant):
    with in_scope(tenant):
        move_status(status_named(tenant, "Zwrócone"), "up")
        create_status(tenant, name="Reklamacja", colour="#000000", group="other")

    assert status_rows(other_tenant) == SEEDED


def test_a_status_of_another_tenant_cannot_be_changed_in_this_tenant_scope(tenant, other_tenant):
    beta_nowe = status_named(other_tenant, "Nowe")
    with in_scope(tenant), pytest.raises(OrderStatus.DoesNotExist):
        update_status(beta_nowe, name="Przejęte", buyer_name="", colour="#000000", group="new")

    assert status_rows(other_tenant) == SEEDED
