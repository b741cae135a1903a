"""Tables as downloadable files: CSV (UTF-8 with a BOM, so Excel on Chinese Windows reads it) or
XLSX. Every export of the console goes through here.

Text a user typed (a site, product or customer name) must never become a live formula in the
spreadsheet that opens the file (CSV/formula injection): a string starting with `=`, `+`, `-`,
`@`, a tab or a carriage return is neutralised here, in the one place every export passes. In CSV
it is prefixed with a single quote (what spreadsheet programs show as plain text); in XLSX the
cell is written as a typed text cell with the "quote prefix" style, so the exact text is shown and
stays text even when someone edits the cell. Numbers (int, Decimal, float) are not text and stay
numbers, negative ones included; a string that is only a plain decimal number ("-12.50") is no
formula either and is left as it is."""

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
