"""A copy of the database `migrated_sqlite` (tests/core/conftest.py) built once per test process."""

import sqlite3
from contextlib import closing
from pathlib import Path


def copy_database(source: Path, var_dir: Path) -> None:
    """`source` as VAR_DIR/db.sqlite3 (SQLite's online backup: a consistent copy, WAL or not)."""
    var_dir.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(source)) as origin, closing(sqlite3.connect(var_dir / "db.sqlite3")) as copy:
        origin.backup(copy)
