"""Demo revenue sharing over the demo's order history: a two-level agent chain, a site owner, an
investor and the platform, their rules (one changed halfway through the history), accruals for
every paid order (the older ones made available, refunds reversed), and withdrawals in every state
a finance user meets: waiting for review, approved for the bank file, paid, failed and rejected.
The `partner` demo login is the Shanghai agent's."""

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils import timezone

from accounting import accruals, ledger, withdrawals
from accounting.accruals import KINDS_WITHOUT_SHARES, SHARED_STATUSES
from accounting.conf import setting
from accounting.models import Partner, SharingRule
from accounting.rules import rule_change, rule_create
from orders.models import Order

D = Decimal


def _partner(name, kind, region, *, method="bank", account="", holder="", bank="", settlement="manual"):
    partner = Partner(
        name=name,
        kind=kind,
        region=region,
        contact_name=holder,
        payout_method=method,
        payout_name=holder or name,
        bank_name=bank,
        settlement=settlement,
    )
    partner.payout_account = account
    partner.save()
    return partner


def seed(ctx):
    from accounting import recon_demo

    recon_demo.seed(ctx)
    _seed_sharing(ctx)


def _seed_sharing(ctx):
    regions, sites, users = ctx["regions"], ctx["sites"], ctx["users"]
    finance = users["finance"]
    root = regions["demo-sh"].parent
    shanghai, hangzhou = regions["demo-sh"], regions["demo-hz"]
    start = timezone.now() - datetime.timedelta(days=ctx["days"] + 2)

    national = _partner(
        "华东总代理 East China agent",
        "agent",
        root,
        account="6222021001000000001",
        bank="ICBC",
        holder="East China Trading",
    )
    sh_agent = _partner(
        "上海城市代理 Shanghai agent", "agent", shanghai, account="6222021001000000002", bank="CMB", holder="Sun Li"
    )
    hz_agent = _partner(
        "杭州城市代理 Hangzhou agent",
        "agent",
        hangzhou,
        account="6222021001000000003",
        bank="ABC",
        holder="Hangzhou Retail",
    )
    venue = sites.get("sh-venue-3") or next(s for s in sites.values() if s.region_id == shanghai.pk)
    owner = _partner(
        "场地方 Venue owner",
        "site_owner",
        shanghai,
        method="alipay",
        account="venue-owner@example.cn",
        holder="Zhou Hui",
    )
    sh_devices = [d for d in ctx["devices"] if d.site.region_id == shanghai.pk and d.kind == "vending"]
    investor = _partner(
        "设备投资人 Machine investor",
        "investor",
        shanghai,
        account="6222021001000000004",
        bank="BOC",
        holder="Qian Yu",
        settlement="weekly",
    )
    platform = _partner("平台 Platform", "platform", root, account="platform-settlement", holder="Platform")
    sh_agent.users.add(users["partner"])

    rule_create(
        actor=finance, partner=national, region=root, basis=SharingRule.Basis.GROSS, rate=D("3"), valid_from=start
    )
    city_rule = rule_create(
        actor=finance,
        partner=sh_agent,
        region=shanghai,
        basis=SharingRule.Basis.NET_REFUNDS,
        rate=D("8"),
        tiers=[{"above": "3000.00", "rate": "10.0000"}],
        valid_from=start,
    )
    rule_create(
        actor=finance,
        partner=hz_agent,
        region=hangzhou,
        basis=SharingRule.Basis.NET_REFUNDS,
        rate=D("8"),
        valid_from=start,
    )
    rule_create(
        actor=finance, partner=owner, site=venue, basis=SharingRule.Basis.NET_FEES, rate=D("15"), valid_from=start
    )
    for device in sh_devices[:6]:
        rule_create(
            actor=finance,
            partner=investor,
            device=device,
            basis=SharingRule.Basis.PROFIT,
            rate=D("25"),
            valid_from=start,
        )
    rule_create(
        actor=finance, partner=platform, region=root, basis=SharingRule.Basis.PROFIT, rate=D("20"), valid_from=start
    )
    # Halfway through the history the Shanghai agent's share went up: a second version.
    rule_change(
        rule=city_rule,
        actor=finance,
        effective_from=timezone.now() - datetime.timedelta(days=max(ctx["days"] // 2, 1)),
        rate=D("9"),
    )

    accruals_bulk()
    accruals.accruals_release()

    _withdrawals(finance, [sh_agent, hz_agent, owner, investor, national])


def _ask(partner, share, actor):
    available = ledger.balances(partner=partner).available
    minimum = setting("WITHDRAWAL_MIN")
    if available < minimum:
        return None
    amount = min(available, max(minimum, (available * share).quantize(D("0.01"))))
    # One finance user decides it (above the threshold a second approval is needed).
    amount = min(amount, setting("TWO_PERSON_THRESHOLD"))
    try:
        return withdrawals.withdrawal_request(partner=partner, amount=amount, actor=actor)
    except ValidationError:
        return None


def _withdrawals(finance, partners):
    sh_agent, hz_agent, owner, investor, national = partners
    # Paid through the bank file, then one waiting for review.
    paid = _ask(sh_agent, D("0.5"), sh_agent.users.first())
    if paid:
        withdrawals.withdrawal_approve(withdrawal=paid, actor=finance)
        withdrawals.bank_file_rows([paid])
        withdrawals.payout_confirm(withdrawal=paid, actor=finance, reference="DEMO-BANK-0001")
    _ask(sh_agent, D("0.3"), sh_agent.users.first())
    # Approved, waiting in the next bank file.
    approved = _ask(hz_agent, D("0.5"), None)
    if approved:
        withdrawals.withdrawal_approve(withdrawal=approved, actor=finance)
    # Alipay is not configured in the demo: the transfer fails and the money goes back.
    failed = _ask(owner, D("0.8"), None)
    if failed:
        withdrawals.withdrawal_approve(withdrawal=failed, actor=finance)
    rejected = _ask(investor, D("0.5"), None)
    if rejected:
        withdrawals.withdrawal_reject(
            withdrawal=rejected, actor=finance, reason="Bank account name does not match (demo)"
        )
    _ask(national, D("0.2"), None)


def accruals_bulk(*, now=None) -> int:
    """The shares of every paid order of the history at once, as `accruals.order_accrue` posts
    them one by one (the same rules, figures, monthly tiers, refund reversals and release after the
    freeze) but computed in memory and written with bulk inserts: one by one, a quarter of sales
    takes minutes. Orders that already have accruals are left alone. Returns how many were posted."""
    from collections import defaultdict
    from decimal import ROUND_HALF_UP

    from django.db.models import Sum

    from accounting.models import Accrual, CommissionAccount, CommissionEntry, CommissionTransaction, RefundReversal
    from accounting.rules import order_figures, rule_matches_order, tiered_share
    from orders.models import OrderLine, Payment, Refund

    now = now or timezone.now()
    K, T = CommissionAccount.Kind, CommissionTransaction.Kind
    CENT = D("0.01")
    freeze = datetime.timedelta(days=int(setting("FREEZE_DAYS")))
    rules = list(SharingRule.objects.filter(partner__is_active=True).select_related("region", "partner").order_by("pk"))
    orders = list(
        Order.objects.filter(paid_at__isnull=False, status__in=SHARED_STATUSES, accruals__isnull=True)
        .exclude(kind__in=KINDS_WITHOUT_SHARES)
        .select_related("region")
        .order_by("paid_at", "pk")
    )
    ids = [o.pk for o in orders]
    lines, fees, refunds = defaultdict(list), {}, defaultdict(list)
    for chunk in range(0, len(ids), 5000):
        part = ids[chunk : chunk + 5000]
        for line in OrderLine.objects.filter(order_id__in=part).select_related("product").order_by("pk"):
            lines[line.order_id].append(line)
        paid = Payment.objects.filter(order_id__in=part, status=Payment.Status.SUCCEEDED)
        fees.update(dict(paid.values("order_id").annotate(f=Sum("fee")).values_list("order_id", "f")))
        for refund in Refund.objects.filter(order_id__in=part, status=Refund.Status.SUCCEEDED).order_by("pk"):
            refunds[refund.order_id].append(refund)
    month_basis = defaultdict(lambda: D("0"))
    earlier = Accrual.objects.filter(earned_on__gte=(now - datetime.timedelta(days=400)).date()).select_related("rule")
    for accrual in earlier:
        month_basis[(accrual.rule.code, accrual.partner_id, accrual.earned_on.replace(day=1))] += accrual.basis_amount
    posted = []
    for order in orders:
        at = order.paid_at
        for rule in rules:
            if rule.valid_from > at or (rule.valid_until is not None and rule.valid_until <= at):
                continue
            if not rule_matches_order(rule, order):
                continue
            figures = order_figures(order, rule, lines[order.pk], ledger.money(fees.get(order.pk) or 0))
            if figures is None:
                continue
            basis_amount = figures.basis(rule.basis)
            day = timezone.localdate(at)
            if rule.method == SharingRule.Method.PERCENT:
                key = (rule.code, rule.partner_id, day.replace(day=1))
                share = tiered_share(before=month_basis[key], basis=basis_amount, rate=rule.rate, tiers=rule.tiers)
                month_basis[key] += basis_amount
            elif rule.method == SharingRule.Method.PER_ORDER:
                share = rule.amount
            else:
                share = (rule.amount * figures.units).quantize(CENT)
            if share <= 0:
                continue
            accrual = Accrual(
                order=order,
                rule=rule,
                partner_id=rule.partner_id,
                site_id=order.site_id,
                device_id=order.device_id,
                basis=rule.basis,
                basis_amount=basis_amount,
                rate=rule.rate,
                units=figures.units,
                amount=share,
                figures=figures.as_json(rule.basis),
                earned_on=day,
                available_from=at + freeze,
            )
            # Refunds already made are reversed in proportion (never a share of the gross), then
            # what is left is made available once the freeze is over: as order_accrue, then
            # accruals_release, leave it.
            accrual.moves = []
            if accrual.basis != SharingRule.Basis.GROSS:
                paid = D(accrual.figures.get("paid") or order.paid_amount)
                so_far = D("0")
                for refund in refunds.get(order.pk, []):
                    so_far += refund.amount
                    target = share if so_far >= paid else (share * so_far / paid).quantize(CENT, rounding=ROUND_HALF_UP)
                    amount = max(min(target, share) - accrual.reversed_amount, D("0"))
                    accrual.moves.append((T.REVERSAL, refund, amount))
                    accrual.reversed_amount += amount
            if accrual.available_from <= now:
                left = share - accrual.reversed_amount
                accrual.released_amount = left
                accrual.status = Accrual.Status.AVAILABLE if left > 0 else Accrual.Status.SETTLED
                if left > 0:
                    accrual.moves.append((T.RELEASE, None, left))
            posted.append(accrual)
    Accrual.objects.bulk_create(posted, batch_size=1000)
    expense = ledger.system_account(K.EXPENSE)
    accounts = {}

    def account(partner_id, kind):
        if (partner_id, kind) not in accounts:
            accounts[(partner_id, kind)] = ledger.partner_account(Partner(pk=partner_id), kind)
        return accounts[(partner_id, kind)]

    transactions, entries, reversals = [], [], []

    def post(kind, key, accrual, amount, lines):
        record = CommissionTransaction(
            kind=kind,
            partner_id=accrual.partner_id,
            amount=amount,
            idempotency_key=key,
            accrual=accrual,
            actor_label="system",
        )
        transactions.append(record)
        entries.extend((record, acct, delta) for acct, delta in lines)

    for accrual in posted:
        pending = account(accrual.partner_id, K.PENDING)
        post(
            T.ACCRUAL,
            f"accrual:{accrual.pk}",
            accrual,
            accrual.amount,
            [(pending, accrual.amount), (expense, -accrual.amount)],
        )
        for kind, refund, amount in accrual.moves:
            if kind == T.REVERSAL:
                reversals.append(RefundReversal(accrual=accrual, refund=refund, amount=amount))
                if amount > 0:
                    post(
                        kind,
                        f"reversal:{accrual.pk}:{refund.pk}",
                        accrual,
                        amount,
                        [(pending, -amount), (expense, amount)],
                    )
            else:
                available = account(accrual.partner_id, K.AVAILABLE)
                post(kind, f"release:{accrual.pk}", accrual, amount, [(pending, -amount), (available, amount)])
    RefundReversal.objects.bulk_create(reversals, batch_size=1000)
    CommissionTransaction.objects.bulk_create(transactions, batch_size=1000)
    CommissionEntry.objects.bulk_create(
        [CommissionEntry(transaction=record, account=acct, amount=delta) for record, acct, delta in entries],
        batch_size=2000,
    )
    # Every balance is the sum of its entries, as ledger.post keeps it.
    touched = {acct.pk for _record, acct, _delta in entries}
    sums = dict(
        CommissionEntry.objects.filter(account_id__in=touched)
        .values("account_id")
        .annotate(total=Sum("amount"))
        .values_list("account_id", "total")
    )
    for pk in touched:
        CommissionAccount.objects.filter(pk=pk).update(balance=ledger.money(sums.get(pk) or 0), updated_at=now)
    return len(posted)
