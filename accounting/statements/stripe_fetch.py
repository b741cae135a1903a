"""Fetch a day's Stripe balance transactions through the Stripe SDK (`GET /v1/balance_transactions`
with `created` bounds and the source expanded for its PaymentIntent and metadata) as the same JSON
list an operator could download, so it is imported and matched like an uploaded file."""

from __future__ import annotations

import datetime
import json

from django.utils import timezone

PAGE_SIZE = 100  # Stripe's maximum page


def stripe_balance_transactions_json(day: datetime.date) -> bytes:
    """The balance transactions created on `day` (the deployment's time zone), as JSON bytes."""
    from wallet.online import StripeProvider

    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    end = start + datetime.timedelta(days=1)
    page = (
        StripeProvider()
        .client()
        .v1.balance_transactions.list(
            params={
                "created": {"gte": int(start.timestamp()), "lt": int(end.timestamp())},
                "limit": PAGE_SIZE,
                "expand": ["data.source"],
            }
        )
    )
    items = [item.to_dict() for item in page.auto_paging_iter()]
    return json.dumps({"object": "list", "data": items}, sort_keys=True).encode("utf-8")


def stripe_fetch_available() -> bool:
    from wallet.online import StripeProvider

    return StripeProvider().available()
