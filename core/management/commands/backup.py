"""`manage.py backup`: the database (SQLite's online backup API in the embedded default, pg_dump on
PostgreSQL, through django-dbbackup) and the media files, into the backup storage (`BACKUP_DIR`,
default var/backups), keeping the newest `BACKUP_KEEP`; encrypted with GPG for
`BACKUP_GPG_RECIPIENT` when set (or `--encrypt`). A manifest of row counts and sums goes beside each
database backup for `manage.py restore` to verify against. Run nightly by beat (core-backup)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import BaseCommand, CommandError, call_command

from core.backups import dumps, fingerprint

MANIFESTS = "manifests"


class Command(BaseCommand):
    help = "Back up the database and the media files, with a manifest to verify a restore against."

    def add_arguments(self, parser):
        parser.add_argument("--encrypt", action="store_true", help="Encrypt for BACKUP_GPG_RECIPIENT.")
        parser.add_argument("--compress", action="store_true", help="Gzip the backup files.")
        parser.add_argument("--no-media", action="store_true", help="The database only.")

    def handle(self, *args, **options):
        from dbbackup.storage import get_storage

        encrypt = options["encrypt"] or bool(settings.DBBACKUP_GPG_RECIPIENT)
        if encrypt and not settings.DBBACKUP_GPG_RECIPIENT:
            raise CommandError("--encrypt needs BACKUP_GPG_RECIPIENT: the GPG key the backups are encrypted for.")
        storage = get_storage()
        if getattr(storage.storage, "location", None):
            Path(storage.storage.location).mkdir(parents=True, exist_ok=True)
        before = set(storage.list_backups(content_type="db"))
        manifest = fingerprint()
        call_command(
            "dbbackup",
            database="default",
            clean=True,
            encrypt=encrypt,
            compress=options["compress"],
            verbosity=0,
        )
        created = sorted(set(storage.list_backups(content_type="db")) - before)
        if not created:
            raise CommandError("The database backup was not written.")
        name = created[-1]
        storage.storage.save(f"{MANIFESTS}/{name}.json", ContentFile(dumps(manifest).encode()))
        self._drop_orphan_manifests(storage)
        if not options["no_media"]:
            call_command("mediabackup", clean=True, encrypt=encrypt, compress=options["compress"], verbosity=0)
        tables = len(manifest)
        rows = sum(int(entry["rows"]) for entry in manifest.values())
        self.stdout.write(f"Backed up {rows} rows in {tables} tables to {name}")

    @staticmethod
    def _drop_orphan_manifests(storage) -> None:
        kept = set(storage.list_backups(content_type="db"))
        try:
            _, files = storage.storage.listdir(MANIFESTS)
        except FileNotFoundError:
            return
        for file in files:
            if file.removesuffix(".json") not in kept:
                storage.storage.delete(f"{MANIFESTS}/{file}")
