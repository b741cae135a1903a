"""What the restore drills share (tests/core/test_backup_restore.py on SQLite,
tests/core/test_backup_restore_postgresql.py): `manage.py` run as an operator runs it, the figures
a restore must bring back measured apart from the command's own verification, and the drill
itself (migrate, data, backup, wipe, restore, the same figures)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLEAN = {
    k: v
    for k, v in os.environ.items()
    if k not in {"DATABASE_URL", "REDIS_URL", "BACKUP_GPG_RECIPIENT", "BACKUP_DIR", "DEBUG", "SECRET_KEY"}
}
FIGURES = (
    "import json, django; django.setup();"
    "from django.db.models import Sum;"
    "from orders.models import Order, Payment; from wallet.models import Entry; from inventory.models import StockLevel;"
    "print(json.dumps({'orders': Order.objects.count(), 'payments': Payment.objects.count(),"
    " 'entries': Entry.objects.count(), 'entry_sum': str(Entry.objects.aggregate(s=Sum('amount'))['s']),"
    " 'balances': sorted((str(a), str(s)) for a, s in Entry.objects.values_list('account').annotate(s=Sum('amount'))),"
    " 'order_total': str(Order.objects.aggregate(s=Sum('total'))['s']),"
    " 'stock': sorted(StockLevel.objects.values_list('pk', 'quantity'))}))"
)


def run(env, *args, check=True):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def manage(env, *args, check=True):
    return run(env, "manage.py", *args, check=check)


def figures(env):
    return json.loads(run(env, "-c", FIGURES).stdout.strip().splitlines()[-1])


# A database with what a backup must bring back: paid orders, wallet ledger entries, stock levels.
DATA = (
    "import django; django.setup();"
    "from decimal import Decimal;"
    "from tests.factories import build_world, make_order, CustomerFactory, ProductFactory, stock_shelf;"
    "from wallet.services import recharge_credit, wallet_pay;"
    "world = build_world();"
    "[make_order(site=world.east_store, total=Decimal(f'{i}.35'), paid=True) for i in range(1, 41)];"
    "customers = [CustomerFactory() for _ in range(5)];"
    "[recharge_credit(customer=c, amount=Decimal('100.00'), bonus=Decimal('10.00'), provider='cash', key=f'r{c.pk}')"
    " for c in customers];"
    "[wallet_pay(customer=c, amount=Decimal('12.50'), key=f'p{c.pk}') for c in customers];"
    "[stock_shelf(world.east_store, ProductFactory(), quantity=q) for q in (3, 7, 11)]"
)


def drill(env, wipe):
    manage(env, "migrate", "--noinput", "-v0")
    run(env, "-c", DATA)
    before = figures(env)
    assert before["orders"] >= 40 and before["entries"] >= 20 and len(before["stock"]) >= 3, before
    backed = manage(env, "backup")
    assert "Backed up" in backed.stdout
    wipe()
    restored = manage(env, "restore", "--noinput")
    assert "counts and sums verified" in restored.stdout
    assert figures(env) == before
    return before
