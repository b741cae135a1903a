"""Fail if a zh-hans message is untranslated or fuzzy, or a compiled catalog is older than its .po."""

import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
problems = []
catalogs = sorted(root.glob("locale/*/LC_MESSAGES/*.po"))
if not catalogs:
    problems.append("no catalogs under locale/")
for po in catalogs:
    mo = po.with_suffix(".mo")
    if not mo.exists() or mo.stat().st_size == 0:
        problems.append(f"{mo.relative_to(root)} is missing")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)], capture_output=True, text=True
    )
    stats = result.stderr.strip()
    print(f"{po.relative_to(root)}: {stats}")
    if result.returncode != 0:
        problems.append(f"{po.relative_to(root)} does not compile: {stats}")
    elif "untranslated" in stats or "fuzzy" in stats:
        problems.append(f"{po.relative_to(root)} has untranslated or fuzzy messages: {stats}")
    else:
        compiled = subprocess.run(["msgfmt", "-o", "-", str(po)], capture_output=True).stdout
        if mo.exists() and compiled != mo.read_bytes():
            problems.append(f"{mo.relative_to(root)} is out of date; run `make messages`")
for problem in problems:
    print("FAIL:", problem)
sys.exit(1 if problems else 0)
