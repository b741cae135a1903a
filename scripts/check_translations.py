"""Fail unless the Simplified Chinese catalogs are complete and compiled.

For every catalog (`locale/` and each app's `<app>/locale/`): it compiles, nothing is untranslated
or fuzzy, and the .mo matches the .po. Then `makemessages` runs against a copy of the catalogs to
find source strings that are in no catalog yet; the real catalogs are restored byte for byte.
"""

import pathlib
import shutil
import subprocess
import sys
import tempfile

root = pathlib.Path(__file__).resolve().parent.parent
SKIP = {".venv", "var", "node_modules", ".git"}
problems = []


def catalogs() -> list[pathlib.Path]:
    return sorted(
        po for po in root.glob("**/locale/zh_Hans/LC_MESSAGES/*.po") if not SKIP & set(po.relative_to(root).parts)
    )


def _joined(quoted: str) -> str:
    """The text of a possibly wrapped PO string: `"" "abc" "def"` -> `abcdef`."""
    import re

    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', quoted))


def msgids(po: pathlib.Path) -> set[tuple]:
    """(context, msgid) of every active entry, independent of how the lines are wrapped."""
    import re

    ids = set()
    for block in po.read_text(encoding="utf-8").split("\n\n"):
        if block.lstrip().startswith("#~"):
            continue
        ctx = re.search(r'^msgctxt ((?:".*"\n?)+)', block, re.M)
        mid = re.search(r'^msgid ((?:".*"\n?)+)', block, re.M)
        if mid and _joined(mid.group(1)):
            ids.add((_joined(ctx.group(1)) if ctx else "", _joined(mid.group(1))))
    return ids


found = catalogs()
if not found:
    problems.append("no catalogs under locale/")
for po in found:
    mo = po.with_suffix(".mo")
    rel = po.relative_to(root)
    if not mo.exists() or mo.stat().st_size == 0:
        problems.append(f"{mo.relative_to(root)} is missing")
    result = subprocess.run(
        ["msgfmt", "--check", "--statistics", "-o", "/dev/null", str(po)], capture_output=True, text=True
    )
    stats = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else ""
    print(f"{rel}: {stats}")
    if result.returncode != 0:
        problems.append(f"{rel} does not compile: {result.stderr.strip()}")
    elif "untranslated" in stats or "fuzzy" in stats:
        problems.append(f"{rel} has untranslated or fuzzy messages: {stats}")
    else:
        compiled = subprocess.run(["msgfmt", "-o", "-", str(po)], capture_output=True).stdout
        if mo.exists() and compiled != mo.read_bytes():
            problems.append(f"{mo.relative_to(root)} is out of date; run `make messages`")

# Source strings that no catalog has yet.
with tempfile.TemporaryDirectory() as backup:
    saved = {}
    for index, po in enumerate(found):
        copy = pathlib.Path(backup) / f"{index}.po"
        shutil.copy2(po, copy)
        saved[po] = copy
    before = {po: msgids(po) for po in found}
    try:
        result = subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"]
            + [f"--ignore={name}" for name in sorted(SKIP | {"tests", "bench", "scripts"})],
            cwd=root,
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            problems.append(f"makemessages failed: {result.stderr.strip()[-500:]}")
        for po in catalogs():
            new = msgids(po) - before.get(po, set())
            if new:
                sample = ", ".join(sorted(repr(m[1][:40]) for m in new)[:5])
                problems.append(f"{len(new)} source strings are not in {po.relative_to(root)}: {sample}")
            if po not in saved:
                po.unlink()
    finally:
        for po, copy in saved.items():
            shutil.copy2(copy, po)

for problem in problems:
    print("FAIL:", problem)
print("translations:", "FAILED" if problems else "complete")
sys.exit(1 if problems else 0)
