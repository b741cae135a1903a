"""DEX files as real machines send them, through the door they use (`POST /api/v1/device/dex/`):
each published audit file with the totals it states, and each way a real file was refused or
misread before (ADR 0009). These run on SQLite and on PostgreSQL (the NUL-byte case is a 500
on PostgreSQL without the fix)."""

import datetime
import pathlib
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from devices.models import Device
from devices.services import device_pair
from gateway.models import DexRead, DexSelection
from tests.factories import DeviceFactory, ProductFactory

pytestmark = pytest.mark.django_db

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "dex"
RHEVENDORS = (FIXTURES / "rhevendors.eva_dts").read_bytes()
SIELAFF = (FIXTURES / "sielaff.eva_dts").read_bytes()
ANIMO2 = (FIXTURES / "animo2.eva_dts").read_bytes()
FAG = (FIXTURES / "fag-eagle2.txt").read_bytes()
NW = (FIXTURES / "nw-bluered.daa").read_bytes()


@pytest.fixture
def machine_api(api_client):
    """A vending machine paired on the device API: `send(content)` posts a DEX file as it does."""
    device = DeviceFactory(kind=Device.Kind.VENDING)
    _device, token = device_pair(serial_number=device.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")

    def send(content: bytes):
        return api_client.post(
            "/api/v1/device/dex/",
            content,
            content_type="text/plain",
            HTTP_CONTENT_DISPOSITION="attachment; filename=audit.dex",
        )

    send.device = device
    return send


def machine_time(*args) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(*args))


def taken(content: bytes, when: datetime.datetime) -> bytes:
    """The rhevendors file as if the machine had read it at `when` (ID5 in its local time)."""
    return content.replace(b"ID5*231127*1011", timezone.localtime(when).strftime("ID5*%Y%m%d*%H%M%S").encode())


def tie_out_warnings(body) -> list[str]:
    return [w for w in body["warnings"] if "differ" in w or "tie out" in w]


# --- the published files, with the totals they state ---------------------------------------------


def test_sielaff_eight_digit_date_and_cash_plus_cashless_tie_out(machine_api):
    response = machine_api(SIELAFF)
    assert response.status_code == 201, response.content
    body = response.json()
    # VA1 234850 / 1666 = CA2 232950 / 1659 + DA2 1900 / 7, in cents (ID4*2).
    assert (body["vends_value"], body["vends_count"]) == ("2348.50", 1666)
    assert (body["cash_value"], body["cashless_value"]) == ("2329.50", "19.00")
    assert tie_out_warnings(body) == []
    assert body["machine_serial"] == "SIE90517939"
    read = DexRead.objects.get(pk=body["id"])
    assert read.read_at == machine_time(2023, 8, 21, 17, 53, 47)  # ID5*20230821*175347
    assert read.taken_at == read.read_at
    assert "the DXE envelope trailer is missing" in body["warnings"]


def test_animo2_has_no_payment_blocks_and_is_not_warned_as_if_its_cash_were_zero(machine_api):
    body = machine_api(ANIMO2).json()
    assert (body["vends_value"], body["vends_count"]) == ("39.45", 547)
    assert body["cash_value"] is None and body["cashless_value"] is None  # unknown, not zero
    assert not [w for w in body["warnings"] if "CA2" in w]
    assert DexRead.objects.get(pk=body["id"]).read_at == machine_time(2024, 2, 5, 11, 33, 5)
    selections = {s["selection"]: s for s in body["selections"]}
    assert len(selections) == 27
    assert (selections["1"]["name"], selections["1"]["price"], selections["1"]["value_total"]) == (
        "COFFEE",
        "0.20",
        "6.40",
    )
    assert selections["26"]["count_total"] == 1 and selections["26"]["value_total"] == "1.25"


def test_fag_eagle2_totals_and_its_test_vends_are_reported(machine_api):
    body = machine_api(FAG).json()
    assert (body["vends_value"], body["vends_count"]) == ("1757.35", 3264)
    assert (body["cash_value"], body["cashless_value"]) == ("1615.65", "146.30")
    # The counts tie out (2989 + 275 = 3264); the values exceed VA1 by the 460 of test vends (VA2).
    assert "CA2 + DA2 values 176195 differ from the VA1 value 175735" in body["warnings"]
    assert not [w for w in body["warnings"] if "vend counts" in w]
    read = DexRead.objects.get(pk=body["id"])
    assert read.read_at is None and read.taken_at is not None  # no ID5: arrival time stands in
    assert sorted(s["selection"] for s in body["selections"]) == [f"{n:02d}" for n in range(1, 11)]
    assert bytes(read.raw) == FAG  # CRLF and the lines after DXE kept as they came


def test_nw_file_with_empty_pa1_selections_is_read_with_a_warning(machine_api):
    response = machine_api(NW)
    assert response.status_code == 201, response.content  # was 400: "PA1 without a selection number"
    body = response.json()
    assert (body["vends_value"], body["vends_count"]) == ("0.00", 12862)
    assert body["machine_serial"] == "NEC01190360"
    assert body["cash_value"] is None  # no CA2 block
    assert body["cashless_value"] == "0.00"
    assert body["selections"] == []
    warning = next(w for w in body["warnings"] if "PA1" in w)
    assert warning.startswith("16 PA1 segments without a selection number (lines 16, 18, 20, 22, 24, …)")
    assert not [w for w in body["warnings"] if "PA2 without a PA1" in w]


def test_one_empty_pa1_skips_only_that_selection(machine_api):
    content = RHEVENDORS.replace(b"PA1*2*", b"PA1**", 1)
    response = machine_api(content)
    assert response.status_code == 201, response.content
    body = response.json()
    selections = {s["selection"] for s in body["selections"]}
    assert "2" not in selections and {"1", "3"} <= selections
    assert any(w.startswith("1 PA1 segments without a selection number") for w in body["warnings"])


# --- NUL bytes ----------------------------------------------------------------------------------


def test_nul_bytes_after_the_trailer_are_stripped_with_a_warning_and_the_file_kept_as_bytes(machine_api):
    content = RHEVENDORS + b"\x00" * 64 + b"\r\nPA1*\x00\x00*5\r\n"
    response = machine_api(content)
    assert response.status_code == 201, response.content  # 500 on PostgreSQL before: text cannot hold NUL
    body = response.json()
    assert body["vends_value"] == "5865.30"
    assert "66 NUL bytes removed before reading" in body["warnings"]
    read = DexRead.objects.get(pk=body["id"])
    assert bytes(read.raw) == content  # exactly what the machine sent
    assert "\x00" not in "".join(read.warnings) + "".join(read.unknown_segments)
    # The same bytes again are the same read.
    assert machine_api(content).status_code == 200 and DexRead.objects.count() == 1


# --- CA2 missing --------------------------------------------------------------------------------


def test_a_machine_without_ca2_has_unknown_cash_and_no_warning_on_every_read(machine_api):
    no_cash = b"".join(line for line in SIELAFF.splitlines(keepends=True) if not line.startswith(b"CA2*"))
    first = machine_api(no_cash).json()
    second = machine_api(no_cash.replace(b"ID5*20230821*175347", b"ID5*20230822*175347")).json()
    for body in (first, second):
        assert body["cash_value"] is None and body["cashless_value"] == "19.00"
        assert tie_out_warnings(body) == []  # was "CA2 + DA2 values 1900 differ from the VA1 value 234850"
    assert DexRead.objects.filter(cash_value__isnull=True).count() == 2


# --- 3 decimal places ---------------------------------------------------------------------------


def test_three_decimal_currency_is_kept_exact_and_shown_at_three_places(machine_api, client, world):
    baseline = RHEVENDORS.replace(b"ID4*2", b"ID4*3*048*BHD")  # Bahraini dinar: 1000 fils
    first = machine_api(baseline).json()
    assert first["vends_value"] == "586.530" and first["cash_value"] == "312.330"
    # Selection 1 sold one more at 1.235 dinar (1235 fils), which a 2-place column cannot hold.
    later = baseline.replace(b"PA2*602*29790*600*29790", b"PA2*603*31025*601*31025").replace(
        b"ID5*231127*1011", b"ID5*231127*1500"
    )
    second = machine_api(later).json()
    one = next(s for s in second["selections"] if s["selection"] == "1")
    assert (one["count_sold"], one["value_sold"], one["value_total"]) == (1, "1.235", "31.025")
    assert second["sales_value"] == "1.235"
    stored = DexSelection.objects.get(read_id=second["id"], selection="1")
    assert stored.value_sold == Decimal("1.235") and stored.value_total == Decimal("31.025")
    # The console page shows the machine's precision too.
    client.force_login(world.admin)
    page = client.get(f"/gateway/dex/{second['id']}/").content.decode()
    assert "1.235" in page and "586.530" in page and "586.5300" not in page


# --- a read that arrives late -------------------------------------------------------------------


def _counts(one_count, one_value, two_count, two_value):
    return RHEVENDORS.replace(b"PA2*602*29790*600*29790", f"PA2*{one_count}*{one_value}*0*0".encode()).replace(
        b"PA2*1176*70440*1175*70440", f"PA2*{two_count}*{two_value}*0*0".encode()
    )


def test_a_read_delivered_late_is_slotted_in_by_the_machine_time_without_phantom_sales(
    machine_api, django_capture_on_commit_callbacks
):
    from inventory.services import stock_move
    from tests.vending.test_sale_flow import _buy
    from vending.reconcile import reconcile
    from vending.services import slot_create

    device = machine_api.device
    one = slot_create(device=device, code="1", product=ProductFactory(), capacity=50)
    stock_move(level=one.level, quantity=20, reason="restock")
    now = timezone.now()
    a = machine_api(taken(_counts(602, 29790, 1176, 70440), now - timedelta(hours=3))).json()
    _buy(one, "between-b-and-c", django_capture_on_commit_callbacks)  # sold now, between B and C
    c = machine_api(taken(_counts(605, 29940, 1180, 70680), now + timedelta(minutes=1))).json()
    # B was taken an hour ago; the gateway's store-and-forward delivers it after C.
    b = machine_api(taken(_counts(604, 29890, 1177, 70500), now - timedelta(hours=1))).json()

    assert b["sales_count"] == 3  # 2 of selection 1 and 1 of selection 2 since A, not a "reset"
    assert not any(s["counter_reset"] for s in b["selections"])
    sold = {s["selection"]: (s["count_sold"], s["value_sold"]) for s in b["selections"]}
    assert sold["1"] == (2, "1.00") and sold["2"] == (1, "0.60")
    assert "this read arrived after a later one from the same machine" in b["warnings"]
    c_read = DexRead.objects.get(pk=c["id"])
    assert c_read.sales_count == 1 + 3  # recounted from B: nothing counted twice
    assert DexRead.objects.get(pk=a["id"]).sales_count + b["sales_count"] + c_read.sales_count == 3 + 4
    assert not DexSelection.objects.filter(counter_reset=True).exists()

    # Reconciliation periods follow the machine's time: the sale made now is in C's period, not B's.
    b_lines = {line.selection: line for line in reconcile(DexRead.objects.get(pk=b["id"]))}
    c_lines = {line.selection: line for line in reconcile(c_read)}
    assert (b_lines["1"].dex_count, b_lines["1"].platform_count) == (2, 0)
    assert (c_lines["1"].dex_count, c_lines["1"].platform_count, c_lines["1"].difference) == (1, 1, 0)
    # The list of reads is in the machine's order too.
    assert list(DexRead.objects.filter(device=device).values_list("pk", flat=True)) == [c["id"], b["id"], a["id"]]
