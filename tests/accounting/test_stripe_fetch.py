"""Finance fetches a day's Stripe balance transactions through the Stripe SDK (answered here, on
this machine) from the import page: imported and matched like an uploaded file; fetching the day
again, or with Stripe away, changes nothing and says why."""

import json
from decimal import Decimal
from urllib.parse import parse_qs, urlparse

import pytest
from django.urls import reverse

from accounting.recon_models import ReconItem, Statement
from tests.accounting.recon_helpers import DAY, paid, statement_bytes

pytestmark = pytest.mark.django_db


class LocalStripe:
    """Answers GET /v1/balance_transactions with the fixture's two transactions."""

    def __init__(self, *, fail=False):
        import stripe

        calls = self.calls = []

        class Client(stripe.HTTPClient):
            name = "local"

            def request(self, method, url, headers, post_data=None, *, _usage=None):
                calls.append(url)
                if fail:
                    return json.dumps({"error": {"message": "down", "type": "api_error"}}), 500, {}
                assert urlparse(url).path == "/v1/balance_transactions"
                query = parse_qs(urlparse(url).query)
                assert query["expand[0]"] == ["data.source"] and "created[gte]" in query
                body = json.loads(statement_bytes("stripe_balance_transactions_api.json"))
                body["url"] = "/v1/balance_transactions"
                return json.dumps(body), 200, {"request-id": "req_local"}

            def close(self):
                pass

        self.client = Client()


@pytest.fixture
def stripe_keys(settings):
    settings.PAYMENT_PROVIDERS = {"stripe": {"secret_key": "sk_test_local", "webhook_secret": "whsec_local"}}


def _fetch(client, world):
    return client.post(reverse("accounting:statement-fetch-stripe"), {"region": world.root.pk, "day": DAY.isoformat()})


def test_finance_fetches_a_day_from_stripe(world, client, stripe_keys, monkeypatch, django_capture_on_commit_callbacks):
    from wallet.online import StripeProvider

    local = LocalStripe()
    monkeypatch.setattr(StripeProvider, "http_client", local.client)
    paid(world.east_store, "stripe", "10.00", "ST-JSON")
    client.force_login(world.finance)
    assert "Fetch from Stripe" in client.get(reverse("accounting:statement-upload")).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _fetch(client, world)
    assert response.status_code == 302
    assert Statement.objects.get().line_count == 2
    item = ReconItem.objects.get(reference="ST-JSON")
    assert (item.kind, item.their_fee) == (ReconItem.Kind.MATCHED, Decimal("0.29"))
    again = _fetch(client, world)
    assert again.status_code == 400 and "already imported" in again.content.decode()
    assert Statement.objects.count() == 1


def test_stripe_away_says_so(world, client, stripe_keys, monkeypatch):
    from wallet.online import StripeProvider

    monkeypatch.setattr(StripeProvider, "http_client", LocalStripe(fail=True).client)
    client.force_login(world.finance)
    response = _fetch(client, world)
    assert response.status_code == 400 and "Stripe could not be reached" in response.content.decode()
    assert not Statement.objects.exists()


def test_without_stripe_keys_there_is_no_fetch(world, client, settings):
    settings.PAYMENT_PROVIDERS = {}
    client.force_login(world.finance)
    assert "Fetch from Stripe" not in client.get(reverse("accounting:statement-upload")).content.decode()
    response = _fetch(client, world)
    assert response.status_code == 400 and "Stripe is not configured" in response.content.decode()
