"""All-or-nothing spreadsheet import of products (CSV or XLSX).

Every row is validated before anything is written; one bad row means nothing is imported, and
each problem is reported with its line and column so the operator can fix the file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils.translation import gettext as _

from catalog.models import Brand, Category, Product, Supplier

COLUMNS = [
    "sku",
    "name",
    "barcode",
    "brand",
    "category",
    "spec",
    "flavour",
    "cost_price",
    "sale_price",
    "supplier",
    "active",
]
REQUIRED = {"sku", "name", "cost_price", "sale_price"}
MAX_ROWS = 20000


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def __str__(self):
        return _("line %(line)s, column %(column)s: %(message)s") % {
            "line": self.line,
            "column": self.column,
            "message": self.message,
        }


class ImportFailed(Exception):
    def __init__(self, errors: list[RowError]):
        super().__init__("; ".join(str(e) for e in errors[:5]))
        self.errors = errors


def read_rows(
    *, filename: str, content: bytes, columns=None, required=None, ignore_unknown: bool = False
) -> list[tuple[int, dict[str, str]]]:
    """(line number, {column: text}) for each data row; the header is line 1. `columns` and
    `required` default to the product import's; `ignore_unknown` accepts (and drops) other columns,
    as in a platform's export that carries many more than an import reads."""
    columns = COLUMNS if columns is None else columns
    required = REQUIRED if required is None else required
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(content)
    elif name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = content.decode("gb18030")  # spreadsheets saved by Excel on Chinese Windows
            except UnicodeDecodeError as exc:
                raise ImportFailed([RowError(1, "-", _("The file is not UTF-8 or GB18030 text."))]) from exc
        rows = list(csv.reader(io.StringIO(text)))
    else:
        raise ImportFailed([RowError(0, "-", _("Upload a .csv or .xlsx file."))])
    if not rows:
        raise ImportFailed([RowError(1, "-", _("The file is empty."))])
    header = [str(h or "").strip().lower() for h in rows[0]]
    missing = sorted(set(required) - set(header))
    if missing:
        raise ImportFailed([RowError(1, c, _("required column is missing")) for c in missing])
    unknown = [h for h in header if h and h not in columns]
    if unknown and not ignore_unknown:
        raise ImportFailed([RowError(1, c, _("unknown column")) for c in unknown])
    if len(rows) - 1 > MAX_ROWS:
        raise ImportFailed([RowError(1, "-", _("At most %(n)s rows per file.") % {"n": MAX_ROWS})])
    out = []
    for offset, row in enumerate(rows[1:], start=2):
        values = {header[i]: ("" if v is None else str(v)).strip() for i, v in enumerate(row) if i < len(header)}
        if any(values.values()):
            out.append((offset, values))
    return out


def _xlsx_rows(content: bytes) -> list[list]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFailed([RowError(0, "-", _("The file is not a readable XLSX workbook."))]) from exc
    sheet = workbook.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def _money(value: str, line: int, column: str, errors: list[RowError]) -> Decimal | None:
    try:
        amount = Decimal(value.replace(",", ""))
    except InvalidOperation:
        errors.append(RowError(line, column, _("not a number")))
        return None
    if not amount.is_finite() or amount < 0:
        errors.append(RowError(line, column, _("must be zero or more")))
        return None
    if amount != amount.quantize(Decimal("0.01")):
        errors.append(RowError(line, column, _("at most two decimal places")))
        return None
    if amount >= Decimal("1e12"):
        errors.append(RowError(line, column, _("too large")))
        return None
    return amount


def validate_rows(rows: list[tuple[int, dict[str, str]]]) -> tuple[list[dict], list[RowError]]:
    errors: list[RowError] = []
    cleaned: list[dict] = []
    seen_skus: dict[str, int] = {}
    suppliers = {s.code: s for s in Supplier.objects.all()}
    categories = {c.code: c for c in Category.objects.all()}
    for line, values in rows:
        row_errors_before = len(errors)
        for column in sorted(REQUIRED):
            if not values.get(column):
                errors.append(RowError(line, column, _("required")))
        sku = values.get("sku", "")
        if len(sku) > 40:
            errors.append(RowError(line, "sku", _("at most 40 characters")))
        if sku and sku in seen_skus:
            errors.append(RowError(line, "sku", _("duplicate of line %(line)s") % {"line": seen_skus[sku]}))
        seen_skus.setdefault(sku, line)
        if len(values.get("name", "")) > 200:
            errors.append(RowError(line, "name", _("at most 200 characters")))
        for column, limit in (("barcode", 32), ("spec", 60), ("flavour", 60), ("brand", 100)):
            if len(values.get(column, "")) > limit:
                errors.append(RowError(line, column, _("at most %(n)s characters") % {"n": limit}))
        cost = _money(values["cost_price"], line, "cost_price", errors) if values.get("cost_price") else None
        sale = _money(values["sale_price"], line, "sale_price", errors) if values.get("sale_price") else None
        supplier = None
        if values.get("supplier"):
            supplier = suppliers.get(values["supplier"])
            if supplier is None:
                errors.append(RowError(line, "supplier", _("no supplier with this code")))
        category = None
        if values.get("category"):
            category = categories.get(values["category"])
            if category is None:
                errors.append(RowError(line, "category", _("no category with this code")))
        active_text = values.get("active", "").lower()
        if active_text not in ("", "1", "0", "yes", "no", "true", "false", "y", "n", "是", "否"):
            errors.append(RowError(line, "active", _("use yes or no")))
        if len(errors) == row_errors_before:
            cleaned.append(
                {
                    "sku": sku,
                    "name": values["name"],
                    "barcode": values.get("barcode", ""),
                    "brand": values.get("brand", ""),
                    "category": category,
                    "spec": values.get("spec", ""),
                    "flavour": values.get("flavour", ""),
                    "cost_price": cost,
                    "sale_price": sale,
                    "supplier": supplier,
                    "is_active": active_text not in ("0", "no", "false", "n", "否"),
                }
            )
    return cleaned, errors


def products_import(*, actor, filename: str, content: bytes, progress=None) -> dict:
    """Import or update products by SKU. Raises ImportFailed (nothing written) on any bad row."""
    from core.services import audit_record

    rows = read_rows(filename=filename, content=content)
    cleaned, errors = validate_rows(rows)
    if errors:
        raise ImportFailed(errors)
    created = updated = 0
    with transaction.atomic():
        brands = {b.name: b for b in Brand.objects.all()}
        for index, data in enumerate(cleaned, start=1):
            brand_name = data.pop("brand")
            if brand_name and brand_name not in brands:
                brands[brand_name] = Brand.objects.create(name=brand_name)
            data["brand"] = brands.get(brand_name) if brand_name else None
            sku = data.pop("sku")
            _product, was_created = Product.objects.update_or_create(sku=sku, defaults=data)
            created += was_created
            updated += not was_created
            if progress and index % 100 == 0:
                progress(index, len(cleaned))
        audit_record(
            actor=actor,
            action="catalog.import",
            changes={
                "file": filename,
                "created": created,
                "updated": updated,
            },
        )
    if progress:
        progress(len(cleaned), len(cleaned))
    return {"created": created, "updated": updated, "rows": len(cleaned)}
