"""The providers' statement formats, quirks included: WeChat Pay's backticks and summary rows,
Alipay's GBK with # comment lines and padded fields, Stripe's CSV (major units) and API JSON
(minor units). A broken row is refused with its line named."""

from decimal import Decimal

import pytest

from accounting.statements import StatementError, looks_like, parser_for
from tests.accounting.recon_helpers import DAY, FILES, statement_bytes


def _parse(provider, content):
    return parser_for(provider)(content)


def test_wechat_trade_bill_backticks_refunds_and_summary():
    lines = _parse("wechat", statement_bytes(FILES["wechat"]))
    assert [(line.kind, line.merchant_reference, line.amount, line.fee) for line in lines] == [
        ("payment", "WX-MATCH", Decimal("10.00"), Decimal("0.06")),
        ("payment", "WX-AMOUNT", Decimal("12.00"), Decimal("0.07")),
        ("payment", "WX-FEE", Decimal("20.00"), Decimal("0.20")),
        ("payment", "WX-STRANGER", Decimal("5.00"), Decimal("0.03")),
        ("refund", "WX-MATCH", Decimal("3.00"), Decimal("0.02")),
    ]
    assert lines[0].provider_reference == "4200001234202611300000000001"  # no backtick left
    assert lines[4].refund_reference == "R-FIXTURE"
    assert {line.day for line in lines} == {DAY}
    assert [line.line_no for line in lines] == [2, 3, 4, 5, 6]


def test_wechat_row_with_a_bad_amount_is_named_by_line():
    content = statement_bytes(FILES["wechat"]).decode("utf-8").replace("`12.00", "`12,0x", 1).encode()
    with pytest.raises(StatementError, match="Line 3"):
        _parse("wechat", content)


def test_wechat_row_missing_a_field_is_named_by_line():
    text = statement_bytes(FILES["wechat"]).decode("utf-8").splitlines()
    text[3] = text[3].rsplit(",", 1)[0]
    with pytest.raises(StatementError, match="Line 4"):
        _parse("wechat", "\n".join(text).encode())


def test_wechat_bill_cut_before_its_summary_is_refused():
    text = statement_bytes(FILES["wechat"]).decode("utf-8").splitlines()[:-2]
    with pytest.raises(StatementError, match="summary"):
        _parse("wechat", "\n".join(text).encode())


def test_wechat_summary_count_must_match_the_rows():
    text = statement_bytes(FILES["wechat"]).decode("utf-8").splitlines()
    del text[4]
    with pytest.raises(StatementError, match="Line 7"):
        _parse("wechat", "\n".join(text).encode())


def test_alipay_account_statement_in_gbk_with_comments_and_fee_rows():
    content = statement_bytes(FILES["alipay"])
    with pytest.raises(UnicodeDecodeError):
        content.decode("utf-8")  # the real thing is GBK
    lines = _parse("alipay", content)
    assert [(line.kind, line.merchant_reference, line.amount, line.fee) for line in lines] == [
        ("payment", "ALI-MATCH", Decimal("10.00"), Decimal("0")),
        ("fee", "ALI-MATCH", Decimal("0.00"), Decimal("0.06")),
        ("payment", "ALI-FEE", Decimal("20.00"), Decimal("0")),
        ("fee", "ALI-FEE", Decimal("0.00"), Decimal("0.30")),
        ("refund", "ALI-MATCH", Decimal("4.00"), Decimal("0")),
        ("payment", "ALI-STRANGER", Decimal("6.00"), Decimal("0")),
    ]
    assert lines[0].line_no == 6  # after four # lines and the header
    assert lines[0].provider_reference == "2026113022001401000000000001"  # tab padding stripped


def test_alipay_footer_totals_must_match_the_rows():
    text = (
        statement_bytes(FILES["alipay"]).decode("gbk").replace("#收入合计：3笔，共36.00元", "#收入合计：3笔，共37.00元")
    )
    with pytest.raises(StatementError, match="Line 13"):
        _parse("alipay", text.encode("gbk"))


def test_alipay_bad_time_is_named_by_line():
    text = statement_bytes(FILES["alipay"]).decode("gbk").replace("2026-11-30 11:00:00", "2026-11-31 11:00:00", 1)
    with pytest.raises(StatementError, match="Line 8"):
        _parse("alipay", text.encode("gbk"))


def test_stripe_dashboard_csv_in_major_units():
    lines = _parse("stripe", statement_bytes(FILES["stripe"]))
    assert [(line.kind, line.amount, line.fee, line.merchant_reference) for line in lines] == [
        ("payment", Decimal("10.00"), Decimal("0.29"), "ST-MATCH"),
        ("payment", Decimal("15.00"), Decimal("0.44"), "ST-AMOUNT"),
        ("refund", Decimal("2.00"), Decimal("0.00"), ""),
        ("payment", Decimal("7.00"), Decimal("0.20"), ""),
        ("other", Decimal("1.00"), Decimal("0.00"), ""),
    ]
    assert lines[2].refund_reference == "re_3QrefundAAA"
    assert lines[0].day == DAY  # 02:00 UTC is 10:00 in Beijing


def test_stripe_api_json_in_minor_units_with_expanded_source():
    lines = _parse("stripe", statement_bytes("stripe_balance_transactions_api.json"))
    assert (lines[0].amount, lines[0].fee, lines[0].merchant_reference, lines[0].provider_reference) == (
        Decimal("10.00"),
        Decimal("0.29"),
        "ST-JSON",
        "pi_3QjsonAAAAA",
    )
    assert (lines[1].kind, lines[1].amount, lines[1].refund_reference) == ("refund", Decimal("3.00"), "re_3QjsonRRRRR")


def test_stripe_json_amount_must_be_minor_units():
    content = statement_bytes("stripe_balance_transactions_api.json").replace(b'"amount": 1000', b'"amount": 10.5')
    with pytest.raises(StatementError, match="Line 1"):
        _parse("stripe", content)


@pytest.mark.parametrize("provider", ["wechat", "alipay", "stripe"])
def test_each_file_is_recognised_as_its_own_provider(provider):
    assert looks_like(statement_bytes(FILES[provider])) == provider


@pytest.mark.parametrize("chosen,actual", [("wechat", "alipay"), ("alipay", "stripe"), ("stripe", "wechat")])
def test_another_providers_file_is_refused(chosen, actual):
    with pytest.raises(StatementError):
        _parse(chosen, statement_bytes(FILES[actual]))
