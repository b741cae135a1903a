"""Stock levels: never below zero or above capacity, always the sum of their movements."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from inventory.models import StockLevel, StockLocation, StockMovement
from inventory.services import InsufficientStock, OverCapacity, level_for, stock_move, stock_transfer
from tests.factories import ProductFactory, SiteFactory


class StockMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        site = SiteFactory()
        product = ProductFactory()
        self.levels = [
            level_for(
                location=StockLocation.objects.create(kind=kind, name=f"{kind}-{n}", site=site),
                product=product,
                capacity=cap,
            )
            for n, (kind, cap) in enumerate([("warehouse", None), ("vehicle", 50), ("slot", 8)])
        ]
        self.expected = [0, 0, 0]

    @rule(which=st.integers(0, 2), quantity=st.integers(1, 20))
    def restock(self, which, quantity):
        capacity = self.levels[which].capacity
        if capacity is not None and self.expected[which] + quantity > capacity:
            with pytest.raises(OverCapacity):
                stock_move(level=self.levels[which], quantity=quantity, reason="restock")
            return
        stock_move(level=self.levels[which], quantity=quantity, reason="restock")
        self.expected[which] += quantity

    @rule(which=st.integers(0, 2), quantity=st.integers(1, 5), reason=st.sampled_from(["sale", "adjustment", "scan"]))
    def take(self, which, quantity, reason):
        if self.expected[which] < quantity:
            with pytest.raises(InsufficientStock):
                stock_move(level=self.levels[which], quantity=-quantity, reason=reason)
            return
        stock_move(level=self.levels[which], quantity=-quantity, reason=reason)
        self.expected[which] -= quantity

    @rule(which=st.integers(0, 2))
    def cancel_a_sale(self, which):
        """A cancelled or timed-out sale puts its item back (if it fits)."""
        capacity = self.levels[which].capacity
        if capacity is not None and self.expected[which] + 1 > capacity:
            return
        stock_move(level=self.levels[which], quantity=1, reason="sale_reversed")
        self.expected[which] += 1

    @rule(source=st.integers(0, 2), destination=st.integers(0, 2), quantity=st.integers(1, 10))
    def transfer(self, source, destination, quantity):
        target = destination
        if source == target:
            return
        capacity = self.levels[target].capacity
        fits = capacity is None or self.expected[target] + quantity <= capacity
        if self.expected[source] < quantity or not fits:
            with pytest.raises(ValidationError):
                stock_transfer(source=self.levels[source], target=self.levels[target], quantity=quantity)
            return
        stock_transfer(source=self.levels[source], target=self.levels[target], quantity=quantity)
        self.expected[source] -= quantity
        self.expected[target] += quantity

    @invariant()
    def levels_equal_their_movements_and_never_go_below_zero(self):
        for level, expected in zip(self.levels, self.expected, strict=True):
            quantity = StockLevel.objects.values_list("quantity", flat=True).get(pk=level.pk)
            moved = sum(StockMovement.objects.filter(level=level).values_list("delta", flat=True))
            assert quantity == moved == expected >= 0


@pytest.mark.django_db
def test_random_stock_steps_keep_levels_equal_to_their_movements():
    run_state_machine_as_test(StockMachine, settings=settings(max_examples=25, stateful_step_count=25, deadline=None))
    # The invariant ran after every step; what is left still adds up.
    for level in StockLevel.objects.all():
        assert level.quantity == sum(level.movements.values_list("delta", flat=True)) >= 0


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, True, 1.5, "3", Decimal("2")])
def test_bad_quantities_are_refused(quantity):
    level = level_for(
        location=StockLocation.objects.create(kind="shelf", name="s", site=SiteFactory()), product=ProductFactory()
    )
    with pytest.raises(ValidationError):
        stock_move(level=level, quantity=quantity, reason="restock")
    assert not StockMovement.objects.exists()
