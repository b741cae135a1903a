"""The payment providers' asynchronous notices (Alipay, WeChat Pay v3, Stripe)."""

import logging

from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from wallet.online import ONLINE_PROVIDERS, InvalidNotice, notice_handle

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def payment_notify(request, code):
    """Verified, then the order is paid exactly once; anything unknown or forged answers 400,
    is logged with the reason and changes nothing."""
    try:
        notice_handle(code=code, request=request)
    except InvalidNotice as reason:
        logger.warning("Refused %s payment notice from %s: %s", code, request.META.get("REMOTE_ADDR"), reason)
        return JsonResponse({"code": "FAIL", "message": "refused"}, status=400)
    provider = next(p for p in ONLINE_PROVIDERS if p.code == code)
    return HttpResponse(provider.ack_body, content_type=provider.ack_content_type)
