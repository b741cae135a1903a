"""Tables as downloadable files: CSV (UTF-8 with a BOM, so Excel on Chinese Windows reads it) or
XLSX. Every export of the console goes through here.

Text a user typed (a site, product or customer name) must never become a live formula in the
spreadsheet that opens the file (CSV/formula injection): a string starting with `=`, `+`, `-`,
`@`, a tab or a carriage return is neutralised here, in the one place every export passes. In CSV
it is prefixed with a single quote (what spreadsheet programs show as plain text); in XLSX the
cell is written as a typed text cell with the "quote prefix" style, so the exact text is shown and
stays text even when someone edits the cell. Numbers (int, Decimal, float) are not text and stay
numbers, negative ones included; a string that is only a plain decimal number ("-12.50") is no
formula either and is left as it is.

Large exports run in the background (docs/adr/0025). An app registers an `Exporter` (its name,
the permission, the headers, the scoped queryset for a user and the list's filters, and a function
turning that queryset into rows, streamed with `.iterator()`). A request that would export more
than `DIRECT_EXPORT_LIMIT` rows creates an `ExportJob` instead; a Celery task writes the file row
by row (CSV through the csv module, XLSX in openpyxl's write-only mode), so the worker's memory
stays flat whatever the size, and records its progress, which the job page polls. No row is
ever dropped: the file has every row the filters and the user's scope select."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")


def is_formula_like(value) -> bool:
    """True for text a spreadsheet could read as a formula (or a DDE payload)."""
    return isinstance(value, str) and value.startswith(FORMULA_TRIGGERS) and not _PLAIN_NUMBER.fullmatch(value)


def safe_csv_cell(value):
    return "'" + value if is_formula_like(value) else value


def _xlsx_cell(worksheet, value):
    if not is_formula_like(value):
        return value
    from openpyxl.cell import WriteOnlyCell

    cell = WriteOnlyCell(worksheet, value)
    cell.data_type = "s"  # openpyxl would otherwise store a leading "=" as a formula
    cell.quotePrefix = True
    return cell


def table_file(headers: Sequence[str], rows: Iterable[Sequence], fmt: str, *, sheet: str = "export"):
    """(content, content type) of the table in `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow([safe_csv_cell(value) for value in headers])
        writer.writerows([safe_csv_cell(value) for value in row] for row in rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    if fmt != "xlsx":
        raise ValueError(f"unknown export format {fmt!r}")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(str(sheet)[:31])
    worksheet.append([_xlsx_cell(worksheet, value) for value in headers])
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), XLSX


def table_response(headers, rows, fmt: str, *, filename: str, sheet: str = "export"):
    from django.http import HttpResponse

    content, content_type = table_file(headers, rows, fmt, sheet=sheet)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response


def write_table(headers: Sequence[str], rows: Iterable[Sequence], fmt: str, path, *, sheet: str = "export") -> int:
    """Write the table to the file at `path`, row by row; returns the number of data rows."""
    count = 0
    if fmt == "csv":
        with open(path, "w", encoding="utf-8-sig", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow([safe_csv_cell(value) for value in headers])
            for row in rows:
                writer.writerow([safe_csv_cell(value) for value in row])
                count += 1
        return count
    if fmt != "xlsx":
        raise ValueError(f"unknown export format {fmt!r}")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(str(sheet)[:31])
    worksheet.append([_xlsx_cell(worksheet, value) for value in headers])
    for row in rows:
        worksheet.append([_xlsx_cell(worksheet, value) for value in row])
        count += 1
    workbook.save(path)
    return count


# --- Background exports -------------------------------------------------------------------------
# An export selecting more rows than this runs as a job; below it the request answers directly.
DIRECT_EXPORT_LIMIT = 5_000
# Rows fetched per round trip while streaming, and how often the progress is saved.
EXPORT_CHUNK = 2_000


class Exporter:
    """An export an app offers. `queryset(user, params)` returns the scoped, filtered rows to
    export (raising django ValidationError for bad filters); `rows(queryset)` yields them as
    lists of cell values, reading with `.iterator(chunk_size=EXPORT_CHUNK)`."""

    def __init__(self, *, name, permission, headers, queryset, rows, filename, sheet="export", back_url=None):
        self.name = name
        self.permission = permission
        self.headers = headers  # a callable: the translated headers, in the active language
        self.queryset = queryset
        self.rows = rows
        self.filename = filename
        self.sheet = sheet
        self.back_url = back_url  # a callable(params) -> the list page the export came from


EXPORTERS: dict[str, Exporter] = {}


def exporter_register(exporter: Exporter) -> Exporter:
    EXPORTERS[exporter.name] = exporter
    return exporter


def export_file_path(job):
    from django.conf import settings

    folder = settings.VAR_DIR / "exports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / job.file_name


def export_job_create(*, user, exporter: str, params: dict, fmt: str, language: str = ""):
    """Queue an export of `exporter` with the list's `params` for `user`; the task starts after
    the transaction commits."""
    import secrets

    from django.db import transaction

    from core.models import ExportJob

    if exporter not in EXPORTERS:
        raise ValueError(f"unknown exporter {exporter!r}")
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    job = ExportJob.objects.create(
        user=user,
        exporter=exporter,
        params=params,
        format=fmt,
        language=language,
        # Unguessable, so a file left in VAR_DIR/exports cannot be found by counting.
        file_name=f"{EXPORTERS[exporter].filename}-{secrets.token_urlsafe(12)}.{fmt}",
    )

    def enqueue():
        from core.tasks import export_job_run

        export_job_run.delay(job.pk)

    transaction.on_commit(enqueue)
    return job


def _progress(job, rows):
    """Pass the rows through, saving how many have gone every EXPORT_CHUNK rows."""
    from core.models import ExportJob

    done = 0
    for row in rows:
        yield row
        done += 1
        if done % EXPORT_CHUNK == 0:
            from django.utils import timezone

            ExportJob.objects.filter(pk=job.pk).update(rows_done=done, progress_at=timezone.now())


def export_job_run(*, job_id: int) -> str:
    """Write the job's file (the task's one service). Runs once: a job already taken by another
    delivery of the task is left alone."""
    import datetime

    from django.core.exceptions import ValidationError
    from django.db.models import Q
    from django.utils import timezone, translation

    from core.db_router import replica_reads
    from core.models import ExportJob

    S = ExportJob.Status
    now = timezone.now()
    # Queued, or running but silent for STALE_AFTER (its worker died; Celery redelivers the task).
    takeable = Q(status=S.QUEUED) | Q(status=S.RUNNING, progress_at__lt=now - datetime.timedelta(seconds=STALE_AFTER))
    if not ExportJob.objects.filter(takeable, pk=job_id).update(status=S.RUNNING, rows_done=0, progress_at=now):
        return "taken"
    job = ExportJob.objects.select_related("user").get(pk=job_id)
    exporter = EXPORTERS[job.exporter]
    path = export_file_path(job)
    try:
        with translation.override(job.language or None), replica_reads():
            queryset = exporter.queryset(job.user, job.params)
            total = queryset.order_by().count()
            ExportJob.objects.filter(pk=job.pk).update(rows_total=total)
            written = write_table(
                [str(h) for h in exporter.headers()],
                _progress(job, exporter.rows(queryset)),
                job.format,
                path,
                sheet=exporter.sheet,
            )
    except ValidationError as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=S.FAILED, error="; ".join(exc.messages), finished_at=timezone.now()
        )
        return "failed"
    except Exception as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=S.FAILED, error=type(exc).__name__, finished_at=timezone.now()
        )
        path.unlink(missing_ok=True)
        raise
    ExportJob.objects.filter(pk=job.pk).update(
        status=S.DONE, rows_done=written, rows_total=written, finished_at=timezone.now()
    )
    return "done"


# A running job that has not reported progress for this long is taken to be dead (seconds). A
# chunk of EXPORT_CHUNK rows takes well under a second, so ten minutes is only ever a lost worker.
STALE_AFTER = 600

# Export files are kept this long, then deleted with their job by a periodic task.
EXPORT_KEEP_HOURS = 24


def export_jobs_expire() -> int:
    import datetime

    from django.utils import timezone

    from core.models import ExportJob

    cutoff = timezone.now() - datetime.timedelta(hours=EXPORT_KEEP_HOURS)
    expired = list(ExportJob.objects.filter(created_at__lt=cutoff))
    for job in expired:
        if job.file_name:
            export_file_path(job).unlink(missing_ok=True)
    ExportJob.objects.filter(pk__in=[job.pk for job in expired]).delete()
    return len(expired)
