"""Property: any sequence of moves keeps the positions a permutation of 1..n and the order
matches a plain list in which each move swaps a status with its neighbour."""

from __future__ import annotations

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders.models import OrderStatus
from orders.statuses import create_status, move_status
from tests.factories import in_scope

moves = st.lists(
    st.tuples(st.integers(min_value=0, max_value=8), st.sampled_from(["up", "down"])),
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(extra=st.integers(min_value=0, max_value=2), sequence=moves)
def test_any_sequence_of_moves_keeps_positions_a_permutation(tenant, extra, sequence):
    with in_scope(tenant), transaction.atomic():
        for number in range(extra):
            create_status(tenant, name=f"Własny {number}", colour="#123456", group="other")
        model = list(OrderStatus.objects.order_by("position", "pk").values_list("pk", flat=True))

        for index, direction in sequence:
            index %= len(model)
            move_status(OrderStatus.objects.get(pk=model[index]), direction)
            other = index - 1 if direction == "up" else index + 1
            if 0 <= other < len(model):
                model[index], model[other] = model[other], model[index]

            stored = list(
                OrderStatus.objects.order_by("position", "pk").values_list("pk", "position")
            )
            assert [pk for pk, _ in stored] == model
            assert [position for _, position in stored] == list(range(1, len(model) + 1))

        transaction.set_rollback(True)  # the next example starts from the seeded statuses
