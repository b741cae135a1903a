"""Reconciliation in the demo: WeChat Pay and Alipay payments at the Shanghai stores on two days,
the providers' statements of those days generated from them in their own formats and imported,
and a shift per day. The day before yesterday is reconciled (green); yesterday is not: WeChat
charged one amount short, took a fee above the configured rate, lists a payment we never took
and misses one we did, and the shift's cash is short without a note."""

import datetime
from decimal import Decimal

from django.utils import timezone

from orders.models import Channel, Order, OrderEvent, OrderKind, Payment
from orders.services import Actor, LineSpec, order_create, payment_confirm

WECHAT_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,"
    "应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,"
    "手续费,费率,订单金额,申请退款金额,费率备注"
)
WECHAT_SUMMARY = "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
ALIPAY_HEADER = "账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注"


def _paid_online(ctx, provider: str, site, product, at: datetime.datetime) -> Payment:
    """An order at the till paid by scanning the provider's code, confirmed as its notice would."""
    clerk = ctx["users"]["clerk"]
    order = order_create(
        kind=OrderKind.COUNTER,
        actor=clerk,
        site=site,
        channel=Channel.COUNTER,
        lines=[LineSpec(description=product.name, unit_price=product.sale_price, product=product)],
    )
    payment = Payment.objects.create(order=order, provider=provider, amount=order.total, collected_by=clerk)
    payment.reference = f"{order.number}P{payment.pk}"  # out_trade_no, as wallet.online sends it
    payment.data = {"transaction_id": f"42000{payment.pk:023d}"}
    payment.save(update_fields=["reference", "data"])
    payment = payment_confirm(payment=payment, actor=Actor.system(f"{provider} notify"))
    Order.objects.filter(pk=order.pk).update(created_at=at, paid_at=at)
    OrderEvent.objects.filter(order=order).update(at=at)
    Payment.objects.filter(pk=payment.pk).update(created_at=at, succeeded_at=at, collected_at=at)
    payment.succeeded_at = at
    return payment


def _wechat_bill(rows: list[tuple[Payment, Decimal, Decimal]]) -> bytes:
    def cells(*values):
        return ",".join(f"`{value}" for value in values)

    lines = [WECHAT_HEADER]
    for payment, amount, fee in rows:
        at = timezone.localtime(payment.succeeded_at).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            cells(
                at,
                "wxdemo0000000001",
                "1900000109",
                "0",
                "",
                payment.data.get("transaction_id", ""),
                payment.reference,
                "oDemoUser",
                "NATIVE",
                "SUCCESS",
                "CMC",
                "CNY",
                amount,
                "0.00",
                "0",
                "0",
                "0.00",
                "0.00",
                "",
                "",
                payment.order.number,
                "",
                fee,
                "0.60%",
                amount,
                "0.00",
                "",
            )
        )
    total = sum((amount for _p, amount, _f in rows), Decimal("0.00"))
    fees = sum((fee for _p, _a, fee in rows), Decimal("0.00"))
    lines += [WECHAT_SUMMARY, cells(len(rows), total, "0.00", "0.00", fees, total, "0.00")]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _alipay_statement(day: datetime.date, rows: list[tuple[Payment, Decimal, Decimal]]) -> bytes:
    lines = [
        "#支付宝账务明细查询",
        "#账号：[20880000000000000156]",
        f"#起始日期：[{day:%Y年%m月%d日} 00:00:00]   终止日期：[{day + datetime.timedelta(days=1):%Y年%m月%d日} 00:00:00]",
        "#-----------------------------------------账务明细列表----------------------------------------",
        ALIPAY_HEADER,
    ]
    balance, number = Decimal("1000.00"), 0
    for payment, amount, fee in rows:
        at = timezone.localtime(payment.succeeded_at).strftime("%Y-%m-%d %H:%M:%S")
        trade_no = f"{day:%Y%m%d}2200140{payment.pk:013d}"
        number += 1
        balance += amount
        lines.append(
            ",".join(
                f"{v}\t"
                for v in (
                    f"{day:%Y%m%d}1100700{number:012d}",
                    trade_no,
                    payment.reference,
                    payment.order.number,
                    at,
                    "demo***@example.com",
                    amount,
                    "",
                    balance,
                    "支付宝",
                    "在线支付",
                    "",
                )
            )
        )
        number += 1
        balance -= fee
        lines.append(
            ",".join(
                f"{v}\t"
                for v in (
                    f"{day:%Y%m%d}1100700{number:012d}",
                    trade_no,
                    payment.reference,
                    "收费",
                    at,
                    "",
                    "",
                    f"-{fee}",
                    balance,
                    "支付宝",
                    "收费",
                    "交易服务费",
                )
            )
        )
    income = sum((amount for _p, amount, _f in rows), Decimal("0.00"))
    fees = sum((fee for _p, _a, fee in rows), Decimal("0.00"))
    lines += [
        "#-----------------------------------------账务明细列表结束------------------------------------",
        f"#收入合计：{len(rows)}笔，共{income}元",
        f"#支出合计：{len(rows)}笔，共-{fees}元",
        f"#导出时间：[{day + datetime.timedelta(days=1):%Y年%m月%d日} 09:30:00]",
    ]
    return ("\r\n".join(lines) + "\r\n").encode("gbk")


def _shift(ctx, site, day: datetime.date, counted_off: Decimal):
    from staff.counter import shift_close, shift_current, shift_open
    from staff.models import Shift

    clerk = ctx["users"]["clerk"]
    if shift_current(clerk) is not None:  # the clerk's shift of today is open (orders.demo): the manager's days
        clerk = ctx["users"]["store_manager"]
    shift = shift_open(actor=clerk, site=site, opening_float=Decimal("200.00"))
    shift = shift_close(actor=clerk, shift=shift, counted_amount=Decimal("200.00") + counted_off)
    opened = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8, 0)))
    Shift.objects.filter(pk=shift.pk).update(opened_at=opened, closed_at=opened + datetime.timedelta(hours=10))


def seed(ctx):
    from accounting.reconciliation import reconcile_day, statement_import
    from core.services import scope_grant
    from orders.services import payment_fee

    rnd = ctx["random"]
    root = ctx["regions"]["demo-sh"].parent
    finance = ctx["users"]["finance"]
    scope_grant(actor=None, user=finance, target=root, action="view")  # the demo's finance sees all regions
    stores = [s for s in ctx["sites"].values() if s.kind == s.Kind.STORE and s.region.code == "demo-sh"]
    products = ctx["products"]
    today = timezone.localdate()
    for days_ago, clean in ((2, True), (1, False)):
        day = today - datetime.timedelta(days=days_ago)
        made = {"wechat": [], "alipay": []}
        for provider, count in (("wechat", 5), ("alipay", 3)):
            for index in range(count):
                at = timezone.make_aware(
                    datetime.datetime.combine(day, datetime.time(9 + 2 * index, rnd.randint(0, 59)))
                )
                made[provider].append(_paid_online(ctx, provider, rnd.choice(stores), rnd.choice(products), at))

        def rows(payments):
            return [(p, p.amount, payment_fee(p.provider, p.amount, p.order.region_id)) for p in payments]

        wechat = rows(made["wechat"])
        if not clean:
            wechat[0] = (wechat[0][0], wechat[0][1] - Decimal("0.50"), wechat[0][2])  # WeChat took less
            wechat[1] = (wechat[1][0], wechat[1][1], wechat[1][2] + Decimal("0.05"))  # a fee above the rate
            missing = wechat.pop()  # a payment WeChat does not list
            stranger = Payment(pk=0, provider="wechat", amount=Decimal("6.50"), reference="UNKNOWN-OUT-TRADE-NO")
            stranger.order = Order(number="—")
            stranger.succeeded_at = missing[0].succeeded_at
            stranger.data = {"transaction_id": "4200009999999999999999999999"}
            wechat.append((stranger, Decimal("6.50"), Decimal("0.04")))
        for provider, content in (
            ("wechat", _wechat_bill(wechat)),
            ("alipay", _alipay_statement(day, rows(made["alipay"]))),
        ):
            statement_import(
                # The Shanghai merchant accounts' statements: Shanghai's administrator sees them too.
                actor=finance,
                provider=provider,
                region=ctx["regions"]["demo-sh"],
                file_name=f"{provider}-{day:%Y%m%d}.csv",
                content=content,
            )
            reconcile_day(provider=provider, day=day)
        _shift(ctx, stores[0], day, Decimal("0.00") if clean else Decimal("-5.00"))
