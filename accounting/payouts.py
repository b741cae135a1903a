"""Sending a withdrawal's money through the provider's transfer API, with its SDK and the same
credentials as collections (settings.PAYMENT_PROVIDERS, see wallet/online.py):

- WeChat Pay: 商家转账 (`mch_transfer_bills`) to the partner's openid, in fen;
- Alipay: 单笔转账 (`alipay.fund.trans.uni.transfer`, certificate mode; the older
  `alipay.fund.trans.toaccount.transfer` with plain keys) to the partner's Alipay login.

Bank transfers are not sent from here: finance downloads them as a file for the bank and confirms
each one paid (accounting/withdrawals.py). The withdrawal number is the provider's idempotency key
(out_bill_no / out_biz_no), so a repeated request never pays twice at the provider either.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from accounting.conf import setting

logger = logging.getLogger(__name__)
# WeChat Pay asks for the payee's real name from 2,000 yuan on (the API's rule).
WECHAT_NAME_REQUIRED_FROM = 2000


@dataclass(frozen=True)
class TransferResult:
    succeeded: bool
    reference: str = ""
    message: str = ""


def _wechat(withdrawal, account: str) -> TransferResult:
    from wallet.online import WeChatPayProvider

    net = withdrawal.net
    code, message = (
        WeChatPayProvider()
        .client()
        .mch_transfer_bills(
            out_bill_no=withdrawal.number.replace("-", ""),
            transfer_scene_id=str(setting("WECHAT_TRANSFER_SCENE")),
            openid=account,
            transfer_amount=int(net * 100),
            transfer_remark=f"Commission {withdrawal.number}"[:32],
            user_name=withdrawal.partner.payout_name if net >= WECHAT_NAME_REQUIRED_FROM else None,
            transfer_scene_report_infos=[
                {"info_type": "岗位类型", "info_content": "分润合作方"},
                {"info_type": "报酬说明", "info_content": f"佣金提现 {withdrawal.number}"},
            ],
        )
    )
    body = json.loads(message or "{}")
    if code in (200, 201) and body.get("transfer_bill_no") and body.get("state") not in ("FAIL", "CANCELLED"):
        return TransferResult(succeeded=True, reference=body["transfer_bill_no"])
    return TransferResult(succeeded=False, message=body.get("message") or body.get("fail_reason") or f"HTTP {code}")


ALIPAY_CERT_KEYS = ("app_public_key_cert", "alipay_public_key_cert", "alipay_root_cert")


def _alipay(withdrawal, account: str) -> TransferResult:
    """单笔转账 (alipay.fund.trans.uni.transfer) needs Alipay's public-key certificate mode
    (the SDK's DCAliPay); a merchant still on plain keys uses the older 单笔转账到支付宝账户
    (alipay.fund.trans.toaccount.transfer) with the collection client."""
    from wallet.online import AlipayProvider

    provider = AlipayProvider()
    config = provider.config()
    title = f"佣金提现 {withdrawal.number}"
    if all(config.get(key) for key in ALIPAY_CERT_KEYS):
        from alipay import DCAliPay

        client = DCAliPay(
            appid=config["app_id"],
            app_private_key_string=config["app_private_key"],
            app_public_key_cert_string=config["app_public_key_cert"],
            alipay_public_key_cert_string=config["alipay_public_key_cert"],
            alipay_root_cert_string=config["alipay_root_cert"],
            sign_type="RSA2",
            debug=bool(config.get("sandbox")),
        )
        result = client.api_alipay_fund_trans_uni_transfer(
            out_biz_no=withdrawal.number,
            identity_type="ALIPAY_LOGON_ID",
            identity=account,
            trans_amount=str(withdrawal.net),
            name=withdrawal.partner.payout_name or None,
            order_title=title,
        )
    else:
        result = provider.client().api_alipay_fund_trans_toaccount_transfer(
            out_biz_no=withdrawal.number,
            payee_type="ALIPAY_LOGONID",
            payee_account=account,
            amount=str(withdrawal.net),
            payee_real_name=withdrawal.partner.payout_name or None,
            remark=title,
        )
    if result.get("code") == "10000" and result.get("status", "SUCCESS") == "SUCCESS":
        return TransferResult(succeeded=True, reference=result.get("order_id") or withdrawal.number)
    return TransferResult(succeeded=False, message=result.get("sub_msg") or result.get("msg") or "refused")


TRANSFERS = {"wechat": _wechat, "alipay": _alipay}


def transfer(withdrawal) -> TransferResult:
    send = TRANSFERS.get(withdrawal.method)
    if send is None:
        return TransferResult(succeeded=False, message="no transfer API for this method")
    account = withdrawal.partner.payout_account
    if not account:
        return TransferResult(succeeded=False, message="the partner has no payout account")
    try:
        return send(withdrawal, account)
    except Exception as error:  # unreachable or refused: the payout fails and the money goes back
        logger.warning("Payout %s through %s failed: %s", withdrawal.number, withdrawal.method, error)
        return TransferResult(succeeded=False, message=str(error)[:200])
