"""`manage.py restore`: put a backup from `manage.py backup` back (the newest, or `--input-filename`)
and verify the restored database against the backup's manifest: every table's row count and the
sums of its money and quantity columns must be identical, or the command fails naming each
difference. Stop the web server, worker and beat first (docs/deploy.md)."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management import BaseCommand, CommandError, call_command
from django.db import connections

from core.backups import differences, fingerprint
from core.management.commands.backup import MANIFESTS


class Command(BaseCommand):
    help = "Restore the newest backup (or --input-filename) and verify it against its manifest."

    def add_arguments(self, parser):
        parser.add_argument("--input-filename", help="A database backup's file name (default: the newest).")
        parser.add_argument("--decrypt", action="store_true", help="The backup was encrypted (GPG).")
        parser.add_argument("--passphrase", help="The GPG key's passphrase, if it has one.")
        parser.add_argument("--no-media", action="store_true", help="The database only.")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive")

    def handle(self, *args, **options):
        from dbbackup.storage import StorageError, get_storage

        if options["decrypt"] and not options["passphrase"]:
            options["passphrase"] = settings.BACKUP_GPG_PASSPHRASE
            if not options["passphrase"] and not options["interactive"]:
                raise CommandError("--decrypt needs the key's passphrase: --passphrase or BACKUP_GPG_PASSPHRASE.")
        storage = get_storage()
        name = options["input_filename"]
        if not name:
            try:
                name = storage.get_latest_backup(content_type="db", encrypted=options["decrypt"])
            except StorageError as exc:
                raise CommandError(f"No backup to restore: {exc}") from exc
        if name not in storage.list_backups(content_type="db"):
            raise CommandError(f"No backup named {name} in the backup storage.")
        manifest_name = f"{MANIFESTS}/{name}.json"
        if not storage.storage.exists(manifest_name):
            raise CommandError(f"{name} has no manifest; it was not made by `manage.py backup`.")
        with storage.storage.open(manifest_name) as handle:
            expected = json.load(handle)
        if options["interactive"]:
            answer = input(f"Replace the database with {name}? Everything written since is lost. [y/N] ")
            if answer.strip().lower() not in {"y", "yes"}:
                raise CommandError("Restore cancelled.")
        self._close_sqlite()
        call_command(
            "dbrestore",
            database="default",
            input_filename=name,
            decrypt=options["decrypt"],
            passphrase=options["passphrase"],
            uncompress=name.endswith(".gz"),
            interactive=False,
            verbosity=0,
        )
        if not options["no_media"]:
            try:
                call_command(
                    "mediarestore",
                    decrypt=options["decrypt"],
                    passphrase=options["passphrase"],
                    interactive=False,
                    verbosity=0,
                )
            except CommandError as exc:  # a backup made with --no-media
                self.stderr.write(f"Media not restored: {exc}")
        problems = differences(expected, fingerprint())
        if problems:
            raise CommandError("The restored database differs from the backup:\n" + "\n".join(problems))
        rows = sum(int(entry["rows"]) for entry in expected.values())
        self.stdout.write(f"Restored {name}: {rows} rows in {len(expected)} tables, counts and sums verified")

    def _restore_media(self, storage, options) -> None:
        from dbbackup.storage import StorageError

        try:
            media = storage.get_latest_backup(content_type="media", encrypted=options["decrypt"])
        except StorageError:  # backups made with --no-media
            self.stderr.write("No media backup: media files left as they are.")
            return
        call_command(
            "mediarestore",
            input_filename=media,
            decrypt=options["decrypt"],
            passphrase=options["passphrase"],
            uncompress=media.endswith(".gz"),
            replace=True,
            interactive=False,
            verbosity=0,
        )

    @staticmethod
    def _close_sqlite() -> None:
        """The SQLite restore writes the file over the database: close every connection and drop
        the write-ahead log, which belongs to the old file."""
        connections.close_all()
        database = settings.DATABASES["default"]
        if database["ENGINE"].endswith("sqlite3"):
            for suffix in ("-wal", "-shm"):
                Path(f"{database['NAME']}{suffix}").unlink(missing_ok=True)
