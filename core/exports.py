"""Tables as downloadable files: CSV (UTF-8 with a BOM, so Excel on Chinese Windows reads it) or
XLSX. Every export of the console goes through here."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMATS = ("csv", "xlsx")


def table_file(headers: Sequence[str], rows: Iterable[Sequence], fmt: str, *, sheet: str = "export"):
    """(content, content type) of the table in `fmt` ("csv" or "xlsx")."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        writer.writerows(rows)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8"), "text/csv; charset=utf-8"
    if fmt != "xlsx":
        raise ValueError(f"unknown export format {fmt!r}")
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(str(sheet)[:31])
    worksheet.append(list(headers))
    for row in rows:
        worksheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), XLSX


def table_response(headers, rows, fmt: str, *, filename: str, sheet: str = "export"):
    from django.http import HttpResponse

    content, content_type = table_file(headers, rows, fmt, sheet=sheet)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{fmt}"'
    return response
