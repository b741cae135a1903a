"""Creating API partners the way an administrator does (the console form), and calling the
partner API with the key that page showed."""

from __future__ import annotations

import re

from django.test import Client
from rest_framework.test import APIClient

from orders.models import PartnerClient

KEY = re.compile(r'<code id="partner-key">(ptn_[A-Za-z0-9_-]+)</code>')
SECRET = re.compile(r'<code id="webhook-secret">(whsec_[A-Za-z0-9_-]+)</code>')


def create_partner(user, *, region, name="Speedy Couriers", kind="courier", sites=(), banks=(), webhook_url=""):
    """POST the console's create form as `user`; returns (partner, key, webhook secret)."""
    browser = Client()
    browser.force_login(user)
    response = browser.post(
        "/orders/partners/new/",
        {
            "name": name,
            "kind": kind,
            "region": region.pk,
            "sites": [s.pk for s in sites],
            "banks": [b.pk for b in banks],
            "webhook_url": webhook_url,
        },
    )
    assert response.status_code == 200, response.content[:500]
    page = response.content.decode()
    key, secret = KEY.search(page), SECRET.search(page)
    assert key and secret, page[:2000]
    return PartnerClient.objects.get(name=name), key.group(1), secret.group(1)


def partner_api(key: str) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Partner {key}")
    return api
