"""The restore drill (seed 003's regular backups): a database with orders, ledger entries and stock
is backed up with `manage.py backup`, wiped, and brought back with `manage.py restore`; the row
counts, the ledger's sums and the stock levels are the same as before, measured here apart from
the command's own verification. On SQLite (online backup API) here; on PostgreSQL (pg_dump /
pg_restore) in tests/core/test_backup_restore_postgresql.py, its own file so that CI's two
workers run the two shapes side by side."""

from __future__ import annotations

import json
import subprocess

from tests.core.backup_helpers import CLEAN, drill, manage
from tests.core.migrated import copy_database


def test_restore_drill_on_sqlite(tmp_path, migrated_sqlite):
    copy_database(migrated_sqlite, tmp_path)
    env = {**CLEAN, "DJANGO_SETTINGS_MODULE": "config.settings", "VAR_DIR": str(tmp_path)}
    media = tmp_path / "media" / "products"
    media.mkdir(parents=True)
    (media / "photo.txt").write_text("a product photo")

    def wipe():
        for suffix in ("", "-wal", "-shm"):
            (tmp_path / f"db.sqlite3{suffix}").unlink(missing_ok=True)
        (media / "photo.txt").unlink()

    drill(env, wipe)
    assert (media / "photo.txt").read_text() == "a product photo"

    # A backup whose manifest does not match what comes back is reported, table by table.
    manifest = next((tmp_path / "backups" / "manifests").glob("*.json"))
    figures = json.loads(manifest.read_text())
    figures["orders.Order"]["rows"] = str(int(figures["orders.Order"]["rows"]) + 1)
    manifest.write_text(json.dumps(figures))
    failed = manage(env, "restore", "--noinput", check=False)
    assert failed.returncode != 0
    assert "orders.Order.rows" in failed.stderr


def test_encrypted_backup_needs_the_key_to_restore(tmp_path, migrated_sqlite):
    copy_database(migrated_sqlite, tmp_path / "var")
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
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "backup", "--no-media")
    backups = list((tmp_path / "var" / "backups").glob("*.gpg"))
    assert backups and b"CREATE TABLE" not in backups[0].read_bytes()
    refused = manage(env, "restore", "--noinput", "--decrypt", "--no-media", check=False)
    assert refused.returncode != 0 and "passphrase" in refused.stderr
    restored = manage(env, "restore", "--noinput", "--decrypt", "--no-media", "--passphrase", "drill-pass")
    assert "counts and sums verified" in restored.stdout
