"""Matching each provider's statement with our payments and refunds: every kind of difference
is found and named (matched, amount differs, fee differs from the configured rate, ours only,
theirs only); importing the same statement again changes nothing; bad files change nothing."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from accounting.recon_models import ReconItem, Statement, StatementLine
from accounting.reconciliation import recon_item_resolve, reconcile_day, statement_import
from tests.accounting.recon_helpers import (
    DAY,
    FILES,
    alipay_side,
    paid,
    statement_bytes,
    stripe_side,
    wechat_side,
)

pytestmark = pytest.mark.django_db
K = ReconItem.Kind


def _import(world, provider, name=None):
    return statement_import(
        actor=world.finance,
        provider=provider,
        region=world.root,
        file_name=name or FILES[provider],
        content=statement_bytes(name or FILES[provider]),
    )


def _results(provider):
    return sorted(
        (item.kind, item.reference, item.our_amount, item.their_amount)
        for item in ReconItem.objects.filter(provider=provider, day=DAY)
    )


def test_wechat_every_kind_of_difference(world):
    wechat_side(world.east_store)
    _import(world, "wechat")
    counts = reconcile_day(provider="wechat", day=DAY)
    assert _results("wechat") == sorted(
        [
            (K.MATCHED, "WX-MATCH", Decimal("10.00"), Decimal("10.00")),
            (K.MATCHED, "WX-MATCH", Decimal("3.00"), Decimal("3.00")),  # the refund, by WeChat's refund id
            (K.AMOUNT, "WX-AMOUNT", Decimal("12.50"), Decimal("12.00")),
            (K.FEE, "WX-FEE", Decimal("20.00"), Decimal("20.00")),
            (K.OURS_ONLY, "WX-OURS", Decimal("8.00"), None),
            (K.THEIRS_ONLY, "WX-STRANGER", None, Decimal("5.00")),
        ]
    )
    fee = ReconItem.objects.get(kind=K.FEE)
    assert (fee.expected_fee, fee.their_fee) == (Decimal("0.12"), Decimal("0.20"))  # 0.6 % configured, 1 % charged
    assert counts == {K.MATCHED: 2, K.AMOUNT: 1, K.FEE: 1, K.OURS_ONLY: 1, K.THEIRS_ONLY: 1}
    assert ReconItem.objects.filter(status=ReconItem.Status.OPEN).count() == 4


def test_alipay_fee_rows_are_added_to_their_payment(world):
    alipay_side(world.east_store)
    _import(world, "alipay")
    reconcile_day(provider="alipay", day=DAY)
    assert _results("alipay") == sorted(
        [
            (K.MATCHED, "ALI-MATCH", Decimal("10.00"), Decimal("10.00")),
            (K.MATCHED, "ALI-MATCH", Decimal("4.00"), Decimal("4.00")),
            (K.FEE, "ALI-FEE", Decimal("20.00"), Decimal("20.00")),
            (K.OURS_ONLY, "ALI-OURS", Decimal("9.00"), None),
            (K.THEIRS_ONLY, "ALI-STRANGER", None, Decimal("6.00")),
        ]
    )
    matched = ReconItem.objects.get(kind=K.MATCHED, payment__isnull=False)
    assert (matched.expected_fee, matched.their_fee) == (Decimal("0.06"), Decimal("0.06"))
    assert ReconItem.objects.get(kind=K.FEE).their_fee == Decimal("0.30")


def test_stripe_csv_matches_by_metadata_and_refund_id(world):
    stripe_side(world.east_store)
    _import(world, "stripe")
    reconcile_day(provider="stripe", day=DAY)
    assert _results("stripe") == sorted(
        [
            (K.MATCHED, "ST-MATCH", Decimal("10.00"), Decimal("10.00")),
            (K.MATCHED, "ST-MATCH", Decimal("2.00"), Decimal("2.00")),
            (K.AMOUNT, "ST-AMOUNT", Decimal("16.00"), Decimal("15.00")),
            (K.THEIRS_ONLY, "ch_3QstrangerA", None, Decimal("7.00")),
        ]
    )


def test_stripe_api_json_matches_by_payment_intent(world):
    paid(world.east_store, "stripe", "10.00", "OTHER-REF", transaction_id="pi_3QjsonAAAAA")
    _import(world, "stripe", "stripe_balance_transactions_api.json")
    reconcile_day(provider="stripe", day=DAY)
    kinds = sorted(ReconItem.objects.values_list("kind", "reference"))
    assert (K.MATCHED, "OTHER-REF") in kinds
    assert (K.THEIRS_ONLY, "re_3QjsonRRRRR") in kinds  # a refund we never made


def test_a_changed_fee_rate_makes_the_fee_match(world):
    from core.region_settings import region_setting_set

    wechat_side(world.east_store)
    region_setting_set(actor=world.admin, region=world.root, key="fees.wechat", raw="0.01")
    _import(world, "wechat")
    reconcile_day(provider="wechat", day=DAY)
    assert ReconItem.objects.get(reference="WX-FEE").kind == K.MATCHED


def test_reconciling_again_keeps_resolutions_and_changes_nothing(world):
    wechat_side(world.east_store)
    _import(world, "wechat")
    reconcile_day(provider="wechat", day=DAY)
    item = ReconItem.objects.get(kind=K.OURS_ONLY)
    recon_item_resolve(actor=world.finance, item_id=item.pk, note="Paid by a test card outside WeChat")
    before = sorted(ReconItem.objects.values_list("pk", "kind", "status", "updated_at"))
    reconcile_day(provider="wechat", day=DAY)
    assert sorted(ReconItem.objects.values_list("pk", "kind", "status", "updated_at")) == before


def test_resolving_needs_a_note_and_happens_once(world):
    from core.models import AuditEntry

    wechat_side(world.east_store)
    _import(world, "wechat")
    reconcile_day(provider="wechat", day=DAY)
    item = ReconItem.objects.get(kind=K.THEIRS_ONLY)
    with pytest.raises(ValidationError):
        recon_item_resolve(actor=world.finance, item_id=item.pk, note="  ")
    recon_item_resolve(actor=world.finance, item_id=item.pk, note="Test payment by WeChat support")
    with pytest.raises(ValidationError):
        recon_item_resolve(actor=world.finance, item_id=item.pk, note="again")
    matched = ReconItem.objects.filter(kind=K.MATCHED).first()
    with pytest.raises(ValidationError):
        recon_item_resolve(actor=world.finance, item_id=matched.pk, note="nothing to do")
    assert AuditEntry.objects.filter(action="reconciliation.resolve").count() == 1


def test_the_same_statement_twice_changes_nothing(world):
    wechat_side(world.east_store)
    _import(world, "wechat")
    counts = (Statement.objects.count(), StatementLine.objects.count())
    with pytest.raises(ValidationError, match="already imported"):
        _import(world, "wechat")
    # The same day in a re-exported file (a different hash) is refused too.
    content = statement_bytes(FILES["wechat"]) + b"\r\n"
    with pytest.raises(ValidationError, match="already imported"):
        statement_import(
            actor=world.finance, provider="wechat", region=world.root, file_name="again.csv", content=content
        )
    assert (Statement.objects.count(), StatementLine.objects.count()) == counts


def test_wrong_provider_and_broken_files_change_nothing(world):
    with pytest.raises(ValidationError, match="Alipay statement, but WeChat Pay was chosen"):
        statement_import(
            actor=world.finance,
            provider="wechat",
            region=world.root,
            file_name="x.csv",
            content=statement_bytes(FILES["alipay"]),
        )
    broken = statement_bytes(FILES["wechat"]).decode().replace("`20.00", "`twenty").encode()
    with pytest.raises(ValidationError, match="Line 4"):
        statement_import(actor=world.finance, provider="wechat", region=world.root, file_name="x.csv", content=broken)
    with pytest.raises(ValidationError, match="empty"):
        statement_import(actor=world.finance, provider="wechat", region=world.root, file_name="x.csv", content=b"")
    assert not Statement.objects.exists() and not StatementLine.objects.exists()


def test_the_daily_run_reconciles_imported_days(world, django_capture_on_commit_callbacks):
    from accounting.recon_tasks import reconcile_daily

    wechat_side(world.east_store)
    _import(world, "wechat")
    assert not ReconItem.objects.exists()
    import datetime
    from unittest import mock

    with mock.patch("django.utils.timezone.localdate", return_value=DAY + datetime.timedelta(days=1)):
        assert reconcile_daily() == 1
    assert ReconItem.objects.filter(day=DAY).count() == 6


def test_the_daily_job_is_in_the_beat_schedule():
    from config.celery import app

    app.loader.import_default_modules()
    app.finalize()
    tasks = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert "accounting.recon_tasks.reconcile_daily" in tasks


def test_alipay_fee_given_back_with_a_refund_is_not_the_payments_fee(world):
    alipay_side(world.east_store)
    text = statement_bytes(FILES["alipay"]).decode("gbk")
    give_back = ",".join(
        f"{v}\t"
        for v in (
            "20261130110070001506010000007",
            "2026113022001401000000000001",
            "ALI-MATCH",
            "收费",
            "2026-11-30 15:00:00",
            "",
            "0.02",
            "",
            "1025.66",
            "支付宝",
            "收费",
            "退还服务费",
        )
    )
    text = text.replace(
        "#-----------------------------------------账务明细列表结束",
        give_back + "\r\n#-----------------------------------------账务明细列表结束",
    )
    text = text.replace("#收入合计：3笔，共36.00元", "#收入合计：4笔，共36.02元")
    statement_import(
        actor=world.finance, provider="alipay", region=world.root, file_name="a.csv", content=text.encode("gbk")
    )
    reconcile_day(provider="alipay", day=DAY)
    payment = ReconItem.objects.get(reference="ALI-MATCH", payment__isnull=False)
    assert (payment.kind, payment.their_fee) == (K.MATCHED, Decimal("0.06"))
