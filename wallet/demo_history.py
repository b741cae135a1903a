"""The demo history's wallet side, written set-based like orders.demo_history: the ledger
transactions and entries wallet.services posts (recharge with its bonus, recharge refund, deposit
hold, capture, release) collected in memory with each customer's running balances, so no balance
ever goes below zero on the way, then inserted in bulk and each touched account's balance set to
the sum of its entries. Also the recharge orders of the history (`recharge_sale`), shared by the
wallet's and the rentals' demos (a renter tops the wallet up before renting). Demo only.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.db.models import DecimalField, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from orders.demo_history import Actor, History, Sale, stamps_kept
from orders.models import ActorKind, Channel, OrderKind, OrderStatus
from wallet.models import Account, Entry, Hold, LedgerTransaction, Recharge
from wallet.services import account_for, bonus_for, system_account

K = Account.Kind
T = LedgerTransaction.Kind
ZERO = Decimal("0.00")
SYSTEM = Actor(ActorKind.SYSTEM, "system")


class Ledger:
    """Postings collected in memory; `flush()` writes them once the orders have their keys."""

    def __init__(self):
        self.accounts: dict[tuple, Account] = {}
        self.balance: dict[int, Decimal] = {}
        # (transaction, [(account, delta)], key or a callable giving it once the keys exist, sale)
        self.postings: list[tuple] = []
        self.bonus_cache: dict = {}

    def account(self, customer, kind: str) -> Account:
        key = (customer.pk if customer is not None else None, kind)
        if key not in self.accounts:
            account = account_for(customer=customer, kind=kind) if customer is not None else system_account(kind)
            self.accounts[key] = account
            self.balance[account.pk] = account.balance
        return self.accounts[key]

    def clearing(self, provider: str) -> Account:
        key = (None, K.CLEARING, provider)
        if key not in self.accounts:
            account = system_account(K.CLEARING, provider)
            self.accounts[key] = account
            self.balance[account.pk] = account.balance
        return self.accounts[key]

    def available(self, customer, kind: str = K.PAID) -> Decimal:
        return self.balance[self.account(customer, kind).pk]

    def post(self, *, kind, key, customer, amount, lines, at, sale: Sale | None = None, reference=""):
        lines = [(account, delta) for account, delta in lines if delta]
        assert sum((delta for _a, delta in lines), ZERO) == 0, "ledger lines must sum to zero"
        for account, delta in lines:
            if account.customer_id and self.balance[account.pk] + delta < 0:
                raise ValueError(f"the demo history took account {account.pk} below zero")
        for account, delta in lines:
            self.balance[account.pk] += delta
        record = LedgerTransaction(
            kind=kind,
            customer=customer,
            amount=amount,
            reference=reference[:64],
            actor_label="system",
            created_at=at,
        )
        self.postings.append((record, lines, key, sale))
        return record

    def bonus(self, region, amount: Decimal, at):
        cached = self.bonus_cache.get((region.pk, amount))
        if cached is None:
            cached = self.bonus_cache[(region.pk, amount)] = bonus_for(region=region, amount=amount, at=at)
        return cached

    def flush(self) -> None:
        postings, self.postings = self.postings, []
        if not postings:
            return
        for record, _lines, key, sale in postings:
            record.idempotency_key = key() if callable(key) else key
            if sale is not None:
                record.order = sale.order
                record.reference = record.reference or sale.order.number
        with stamps_kept(LedgerTransaction):
            LedgerTransaction.objects.bulk_create([p[0] for p in postings], batch_size=1000)
        Entry.objects.bulk_create(
            [Entry(transaction=p[0], account=account, amount=delta) for p in postings for account, delta in p[1]],
            batch_size=2000,
        )
        touched = {account.pk for p in postings for account, _delta in p[1]}
        summed = (
            Entry.objects.filter(account_id=OuterRef("pk"))
            .order_by()
            .values("account_id")
            .annotate(total=Sum("amount"))
            .values("total")
        )
        Account.objects.filter(pk__in=touched).update(
            balance=Coalesce(Subquery(summed, output_field=DecimalField(max_digits=14, decimal_places=2)), ZERO)
        )

    # --- What wallet.services posts ----------------------------------------------------------
    def recharge_credit(self, *, customer, amount, bonus, provider, key, at, sale):
        lines = [(self.clearing(provider), -amount), (self.account(customer, K.PAID), amount)]
        if bonus:
            lines += [(self.account(None, K.BONUS_EXPENSE), -bonus), (self.account(customer, K.BONUS), bonus)]
        return self.post(kind=T.RECHARGE, key=key, customer=customer, amount=amount, lines=lines, at=at, sale=sale)

    def recharge_reverse(self, *, customer, amount, bonus, provider, key, at, sale):
        clawback = min(bonus, self.available(customer, K.BONUS))
        lines = [(self.account(customer, K.PAID), -amount), (self.clearing(provider), amount)]
        if clawback:
            lines += [(self.account(customer, K.BONUS), -clawback), (self.account(None, K.BONUS_EXPENSE), clawback)]
        return self.post(
            kind=T.RECHARGE_REFUND, key=key, customer=customer, amount=amount, lines=lines, at=at, sale=sale
        )

    def hold_place(self, *, hold: Hold, at):
        lines = [
            (self.account(hold.customer, K.PAID), -hold.amount),
            (self.account(hold.customer, K.HELD), hold.amount),
        ]
        return self.post(
            kind=T.HOLD,
            key=lambda: f"hold:{hold.pk}:place",
            customer=hold.customer,
            amount=hold.amount,
            lines=lines,
            at=at,
            reference=hold.reference,
        )

    def hold_capture(self, *, hold: Hold, amount, at):
        """As wallet.services.hold_capture: the amount to revenue, the rest back to paid."""
        held = self.account(hold.customer, K.HELD)
        if amount:
            self.post(
                kind=T.CAPTURE,
                key=lambda: f"hold:{hold.pk}:capture",
                customer=hold.customer,
                amount=amount,
                lines=[(held, -amount), (self.account(None, K.REVENUE), amount)],
                at=at,
                reference=hold.reference,
            )
        rest = hold.amount - amount
        if rest:
            self.post(
                kind=T.RELEASE,
                key=lambda: f"hold:{hold.pk}:release",
                customer=hold.customer,
                amount=rest,
                lines=[(held, -rest), (self.account(hold.customer, K.PAID), rest)],
                at=at,
                reference=hold.reference,
            )
        hold.captured, hold.status, hold.settled_at = amount, Hold.Status.CAPTURED, at

    def hold_release(self, *, hold: Hold, at):
        self.post(
            kind=T.RELEASE,
            key=lambda: f"hold:{hold.pk}:release",
            customer=hold.customer,
            amount=hold.amount,
            lines=[
                (self.account(hold.customer, K.HELD), -hold.amount),
                (self.account(hold.customer, K.PAID), hold.amount),
            ],
            at=at,
            reference=hold.reference,
        )
        hold.status, hold.settled_at = Hold.Status.RELEASED, at


class Recharges:
    """Recharge orders of the history: the order (paid at a counter or in the app, with the
    method's fee), credited at once (`recharge.credited`), now and then refunded the same day
    before any of it was spent, or rung up and never paid (expired)."""

    def __init__(self, history: History, ledger: Ledger):
        self.history, self.ledger = history, ledger
        self.rows: list[tuple[Sale, Recharge]] = []

    def add(self, *, customer, amount: Decimal, at, site=None, region, actor: Actor, method: str, outcome="paid"):
        channel = Channel.COUNTER if site is not None else Channel.CUSTOMER_APP
        sale = self.history.sale(
            kind=OrderKind.RECHARGE,
            at=at,
            region_id=region.pk,
            site_id=site.pk if site is not None else None,
            channel=channel,
            actor=actor,
            lines=[(None, 1, amount, _("Wallet recharge"))],  # as recharge_start writes it
            customer_id=customer.pk,
        )
        bonus, tier = self.ledger.bonus(region, amount, at)
        recharge = Recharge(customer=customer, amount=amount, bonus=bonus, tier=tier)
        self.rows.append((sale, recharge))
        if outcome == "expired":
            later = at + datetime.timedelta(minutes=30)
            self.history.move(sale, OrderStatus.EXPIRED, at=later, actor=Actor(ActorKind.SYSTEM, "expiry"))
            return sale
        reference = "" if method == "cash" else f"demo-{sale.order.number}"
        self.history.pay(sale, at=at, method=method, actor=actor, reference=reference)
        recharge.credited = self.ledger.recharge_credit(
            customer=customer,
            amount=amount,
            bonus=bonus,
            provider=method,
            key=lambda: f"recharge:{sale.order.pk}",
            at=at,
            sale=sale,
        )
        self.history.move(sale, OrderStatus.COMPLETED, at=at, actor=SYSTEM, action="recharge.credited")
        if outcome == "refunded" and self.ledger.available(customer) >= amount:
            later = at + datetime.timedelta(minutes=20)
            self.history.refund(sale, at=later, actor=actor, reason="Changed their mind (demo)")
            recharge.refunded = self.ledger.recharge_reverse(
                customer=customer,
                amount=amount,
                bonus=bonus,
                provider=method,
                key=lambda: f"recharge-refund:{sale.order.pk}",
                at=later,
                sale=sale,
            )
        return sale

    def flush(self) -> None:
        """After the history and the ledger are written: the recharges' own rows."""
        rows, self.rows = self.rows, []
        for sale, recharge in rows:
            recharge.order = sale.order
        Recharge.objects.bulk_create([row for _sale, row in rows], batch_size=1000)
