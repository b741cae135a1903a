"""Product import from CSV and XLSX: every row or none, each bad row named by line and column."""

import io

import openpyxl
import pytest

from catalog.imports import ImportFailed, products_import
from catalog.models import Product
from tests.factories import SupplierFactory

HEADER = "sku,name,barcode,brand,category,spec,flavour,cost_price,sale_price,supplier,active\n"


def _csv(*rows):
    return (HEADER + "".join(row + "\n" for row in rows)).encode()


def _xlsx(*rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    for row in rows:
        sheet.append(row.split(","))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_good_file_imports_every_row(kind):
    SupplierFactory(code="nongfu")
    rows = ("W-1,Water 550ml,6921168509256,Nongfu,,550ml,,1.20,2.00,nongfu,yes", "C-1,Cola,,Coke,,330ml,,1.80,3.50,,")
    content = _csv(*rows) if kind == "csv" else _xlsx(*rows)
    result = products_import(actor=None, filename=f"products.{kind}", content=content)
    assert result == {"created": 2, "updated": 0, "rows": 2}
    assert Product.objects.get(sku="W-1").supplier.code == "nongfu"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_one_bad_row_imports_nothing_and_names_line_and_column(kind):
    rows = (
        "W-1,Water,,,,,,1.20,2.00,,yes",
        "W-2,Tea,,,,,,1.20,two yuan,,yes",  # line 3: bad sale_price
        "W-3,Juice,,,,,,1.20,4.00,,yes",
    )
    content = _csv(*rows) if kind == "csv" else _xlsx(*rows)
    with pytest.raises(ImportFailed) as caught:
        products_import(actor=None, filename=f"products.{kind}", content=content)
    assert [(e.line, e.column) for e in caught.value.errors] == [(3, "sale_price")]
    assert "line 3" in str(caught.value) and "sale_price" in str(caught.value)
    assert Product.objects.count() == 0


@pytest.mark.django_db
def test_console_upload_with_a_bad_row_shows_the_problem_and_changes_nothing(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="pw-12345-x")
    client.force_login(admin)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    upload = SimpleUploadedFile("p.csv", _csv("W-1,Water,,,,,,-1,2.00,,"), content_type="text/csv")
    response = client.post(reverse("catalog:product-import"), {"file": upload})
    assert response.status_code in (200, 400)
    assert b"<td>2</td><td>cost_price</td>" in response.content
    assert Product.objects.count() == 0


@pytest.mark.django_db
def test_garbage_file_is_refused_cleanly():
    with pytest.raises(ImportFailed):
        products_import(actor=None, filename="products.xlsx", content=b"not a spreadsheet")
    assert Product.objects.count() == 0
