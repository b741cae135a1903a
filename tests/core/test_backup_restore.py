"""The restore drill (seed 003's regular backups): a database with orders, ledger entries and stock
is backed up with `manage.py backup`, wiped, and brought back with `manage.py restore`; the row
counts, the ledger's sums and the stock levels are the same as before, measured here apart from
the command's own verification. In both shapes: SQLite (online backup API) and PostgreSQL
(pg_dump / pg_restore)."""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import uuid

import pytest
from django.db import connection

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


def _run(env, *args, check=True):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def _manage(env, *args, check=True):
    return _run(env, "manage.py", *args, check=check)


def _figures(env):
    return json.loads(_run(env, "-c", FIGURES).stdout.strip().splitlines()[-1])


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


def _drill(env, wipe):
    _manage(env, "migrate", "--noinput", "-v0")
    _run(env, "-c", DATA)
    before = _figures(env)
    assert before["orders"] >= 40 and before["entries"] >= 20 and len(before["stock"]) >= 3, before
    backed = _manage(env, "backup")
    assert "Backed up" in backed.stdout
    wipe()
    restored = _manage(env, "restore", "--noinput")
    assert "counts and sums verified" in restored.stdout
    assert _figures(env) == before
    return before


def test_restore_drill_on_sqlite(tmp_path):
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    media = tmp_path / "media" / "products"
    media.mkdir(parents=True)
    (media / "photo.txt").write_text("a product photo")

    def wipe():
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"db.sqlite3{suffix}").unlink(missing_ok=True)
        (media / "photo.txt").unlink()

    _drill(env, wipe)
    assert (media / "photo.txt").read_text() == "a product photo"

    # A backup whose manifest does not match what comes back is reported, table by table.
    manifest = next((tmp_path / "backups" / "manifests").glob("*.json"))
    figures = json.loads(manifest.read_text())
    figures["orders.Order"]["rows"] = str(int(figures["orders.Order"]["rows"]) + 1)
    manifest.write_text(json.dumps(figures))
    failed = _manage(env, "restore", "--noinput", check=False)
    assert failed.returncode != 0
    assert "orders.Order.rows" in failed.stderr


def test_encrypted_backup_needs_the_key_to_restore(tmp_path):
    gnupg_home = tmp_path / "gnupg"
    gnupg_home.mkdir(mode=0o700)
    env = {
        **CLEAN,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "GNUPGHOME": str(gnupg_home),
        "BACKUP_GPG_RECIPIENT": "backups@example.com",
        "BACKUP_GPG_ALWAYS_TRUST": "1",
    }
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "drill-pass",
            "--quick-gen-key",
            "backups@example.com",
            "default",
            "default",
            "never",
        ],
        env=env,
        check=True,
        capture_output=True,
        timeout=120,
    )
    _manage(env, "migrate", "--noinput", "-v0")
    _manage(env, "backup", "--no-media")
    backups = list((tmp_path / "var" / "backups").glob("*.gpg"))
    assert backups and b"CREATE TABLE" not in backups[0].read_bytes()
    refused = _manage(env, "restore", "--noinput", "--decrypt", "--no-media", check=False)
    assert refused.returncode != 0 and "passphrase" in refused.stderr
    restored = _manage(env, "restore", "--noinput", "--decrypt", "--no-media", "--passphrase", "drill-pass")
    assert "counts and sums verified" in restored.stdout


@pytest.mark.postgres
@pytest.mark.django_db
def test_restore_drill_on_postgresql(tmp_path):
    settings_dict = connection.settings_dict
    name = f"backup_drill_{uuid.uuid4().hex[:10]}"
    host, port, user = settings_dict["HOST"] or "127.0.0.1", settings_dict["PORT"] or 5432, settings_dict["USER"]
    url = f"postgres://{user}@{host}:{port}/{name}"
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path), "DATABASE_URL": url}

    def admin(sql):
        import psycopg

        with psycopg.connect(host=host, port=port, user=user, dbname="postgres", autocommit=True) as conn:
            conn.execute(sql)

    admin(f'CREATE DATABASE "{name}"')
    try:

        def wipe():
            admin(f'DROP DATABASE "{name}" WITH (FORCE)')
            admin(f'CREATE DATABASE "{name}"')

        restored = _drill(env, wipe)
    finally:
        admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    assert restored["orders"] >= 40 and restored["entry_sum"] not in ("None", "")
