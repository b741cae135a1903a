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

    for order_id in Order.objects.filter(paid_at__isnull=False).order_by("paid_at").values_list("pk", flat=True):
        accruals.order_accrue(order_id=order_id)
    accruals.accruals_release()

    _withdrawals(finance, [sh_agent, hz_agent, owner, investor, national])


def _ask(partner, share, actor):
    available = ledger.balances(partner=partner).available
    minimum = setting("WITHDRAWAL_MIN")
    if available < minimum:
        return None
    amount = min(available, max(minimum, (available * share).quantize(D("0.01"))))
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
