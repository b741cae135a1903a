"""Scoped builders of the reconciliation models, merged into tests/factories.py's registries."""

import datetime
import itertools
import uuid
from decimal import Decimal

from accounting.recon_models import ReconItem, Statement

_seq = itertools.count(1)
DAY = datetime.date(2026, 11, 30)


def statement_in(region, provider="wechat"):
    return Statement.objects.create(
        provider=provider,
        region=region,
        file_name=f"bill-{next(_seq)}.csv",
        file_hash=uuid.uuid4().hex * 2,
        first_day=DAY,
        last_day=DAY,
        line_count=1,
    )


def recon_item_in(region, **values):
    number = next(_seq)
    defaults = {
        "provider": "wechat",
        "day": DAY,
        "region": region,
        "subject": f"line:{900000 + number}",
        "kind": ReconItem.Kind.THEIRS_ONLY,
        "status": ReconItem.Status.OPEN,
        "reference": f"REF-{number}",
        "their_amount": Decimal("5.00"),
    }
    defaults.update(values)
    return ReconItem.objects.create(**defaults)


SCOPED_BUILDERS = {Statement: statement_in, ReconItem: recon_item_in}
