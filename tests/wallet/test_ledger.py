"""The wallet ledger's invariants, under random sequences of every movement."""

import itertools
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from tests.factories import CustomerFactory
from wallet import services
from wallet.models import Account, Entry, Hold, LedgerTransaction

KEYS = itertools.count()
amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("300.00"), places=2)


class WalletMachine(RuleBasedStateMachine):
    """Random recharges, bonuses, payments, refunds, holds, captures and releases on three
    customers, with an independent model of what each balance must be."""

    def __init__(self):
        super().__init__()
        self.customers = [CustomerFactory() for _ in range(3)]
        self.expected = {
            c.pk: {"paid": Decimal("0"), "bonus": Decimal("0"), "held": Decimal("0")} for c in self.customers
        }
        self.payments: list[tuple[LedgerTransaction, Decimal, Decimal]] = []  # (tx, from_paid, from_bonus)
        self.holds: list[Hold] = []

    def key(self, prefix):
        return f"{prefix}-{next(KEYS)}"  # unique across examples: a key is never reused

    @rule(who=st.integers(0, 2), amount=amounts, bonus=st.decimals(min_value=0, max_value=30, places=2))
    def recharge(self, who, amount, bonus):
        customer = self.customers[who]
        services.recharge_credit(customer=customer, amount=amount, bonus=bonus, provider="cash", key=self.key("r"))
        self.expected[customer.pk]["paid"] += amount
        self.expected[customer.pk]["bonus"] += bonus

    @rule(who=st.integers(0, 2), amount=amounts)
    def pay(self, who, amount):
        customer, expected = self.customers[who], self.expected[self.customers[who].pk]
        if expected["paid"] + expected["bonus"] < amount:
            with pytest.raises(services.InsufficientFunds):
                services.wallet_pay(customer=customer, amount=amount, key=self.key("p"))
            return
        record = services.wallet_pay(customer=customer, amount=amount, key=self.key("p"))
        from_paid = min(expected["paid"], amount)
        expected["paid"] -= from_paid
        expected["bonus"] -= amount - from_paid
        self.payments.append([record, amount, Decimal("0")])

    @precondition(lambda self: self.payments)
    @rule(data=st.data())
    def refund(self, data):
        index = data.draw(st.integers(0, len(self.payments) - 1))
        record, amount, refunded = self.payments[index]
        if refunded >= amount:
            return
        part = data.draw(st.decimals(min_value=Decimal("0.01"), max_value=amount - refunded, places=2))
        refund = services.wallet_refund(payment=record, amount=part, key=self.key("f"))
        back = {e.account.kind: e.amount for e in refund.entries.select_related("account")}
        self.expected[record.customer_id]["paid"] += back.get("paid", Decimal("0"))
        self.expected[record.customer_id]["bonus"] += back.get("bonus", Decimal("0"))
        self.payments[index][2] += part

    @rule(who=st.integers(0, 2), amount=amounts)
    def hold(self, who, amount):
        customer, expected = self.customers[who], self.expected[self.customers[who].pk]
        if expected["paid"] < amount:
            with pytest.raises(services.InsufficientFunds):
                services.hold_place(customer=customer, amount=amount, reference="t", idempotency_key=self.key("h"))
            return
        self.holds.append(
            services.hold_place(customer=customer, amount=amount, reference="t", idempotency_key=self.key("h"))
        )
        expected["paid"] -= amount
        expected["held"] += amount

    @precondition(lambda self: any(h.status == "held" for h in self.holds))
    @rule(data=st.data())
    def capture_or_release(self, data):
        open_holds = [h for h in self.holds if h.status == "held"]
        hold = data.draw(st.sampled_from(open_holds))
        expected = self.expected[hold.customer_id]
        if data.draw(st.booleans()):
            part = data.draw(st.decimals(min_value=0, max_value=hold.amount, places=2))
            settled = services.hold_capture(hold=hold, amount=part)
            expected["paid"] += hold.amount - part
        else:
            settled = services.hold_release(hold=hold)
            expected["paid"] += hold.amount
        expected["held"] -= hold.amount
        self.holds[self.holds.index(hold)] = settled

    @invariant()
    def every_transaction_sums_to_zero(self):
        # Summed in Python: SQLite adds decimals as floats, which would hide or invent cents.
        totals: dict[int, Decimal] = {}
        for transaction_id, amount in Entry.objects.values_list("transaction_id", "amount"):
            totals[transaction_id] = totals.get(transaction_id, Decimal("0")) + amount
        assert set(totals.values()) <= {Decimal("0")}
        assert set(totals) == set(LedgerTransaction.objects.values_list("pk", flat=True))

    @invariant()
    def balances_equal_their_entries_and_the_model(self):
        for account in Account.objects.all():
            total = sum(Entry.objects.filter(account=account).values_list("amount", flat=True), Decimal("0"))
            assert account.balance == total
            if account.customer_id in self.expected:
                assert account.balance >= 0
                assert account.balance == self.expected[account.customer_id][account.kind]


@pytest.mark.django_db
def test_random_sequences_keep_the_ledger_balanced():
    run_state_machine_as_test(WalletMachine, settings=settings(max_examples=25, stateful_step_count=20, deadline=None))


@pytest.mark.django_db
def test_the_same_key_changes_nothing_and_a_different_amount_is_an_error():
    customer = CustomerFactory()
    first = services.recharge_credit(customer=customer, amount="50", provider="cash", key="k1")
    assert services.recharge_credit(customer=customer, amount="50", provider="cash", key="k1") == first
    with pytest.raises(services.IdempotencyConflict):
        services.recharge_credit(customer=customer, amount="60", provider="cash", key="k1")
    assert services.balances(customer=customer).paid == Decimal("50.00")


@pytest.mark.django_db
def test_a_held_amount_cannot_be_spent():
    customer = CustomerFactory()
    services.recharge_credit(customer=customer, amount="100", provider="cash", key="r")
    services.hold_place(customer=customer, amount="80", reference="lease", idempotency_key="h")
    with pytest.raises(services.InsufficientFunds):
        services.wallet_pay(customer=customer, amount="30", key="p")
    assert services.balances(customer=customer) == services.Balances(
        paid=Decimal("20.00"), bonus=Decimal("0.00"), held=Decimal("80.00")
    )


@pytest.mark.django_db
@pytest.mark.parametrize("amount", ["0", "-5", "abc", "NaN", "1e12"])
def test_bad_amounts_are_refused(amount):
    with pytest.raises(ValidationError):
        services.recharge_credit(customer=CustomerFactory(), amount=amount, provider="cash", key="x")
    assert not LedgerTransaction.objects.exists()
