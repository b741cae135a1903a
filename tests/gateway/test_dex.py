"""DEX (EVA-DTS) audit import against real machine files."""

import pathlib
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from gateway import dex
from gateway.models import DexRead, DexSelection
from gateway.services import dex_import
from tests.factories import DeviceFactory

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "dex"
RHEVENDORS = (FIXTURES / "rhevendors.eva_dts").read_bytes()
ANIMO = (FIXTURES / "animo.eva_dts").read_bytes()


def test_rhevendors_totals_tie_out_and_the_count_mismatch_is_a_warning():
    audit = dex.parse(RHEVENDORS)
    assert audit.selection_value_total == audit.vends_value == audit.cash_value + audit.cashless_value == 586530
    assert (audit.cash_count + audit.cashless_count, audit.vends_count) == (9599, 9612)
    assert "vend counts do not tie out: CA2 + DA2 counts 9599, VA1 count 9612" in audit.warnings
    assert not [w for w in audit.warnings if "value" in w]  # the money ties out
    assert audit.machine_serial == "RHV0000000000" and audit.decimals == 2
    assert audit.money(audit.vends_value) == Decimal("5865.30")
    assert audit.unknown  # CA3, PA7, LA1 … kept as they came


def test_animo_parses_with_its_own_blocks():
    audit = dex.parse(ANIMO)
    assert audit.currency == "EUR"
    assert audit.vends_value == 816100 and len(audit.selections) == 24
    assert audit.selections["0"].name == "COFFEE" and audit.selections["0"].value == 41200


def test_missing_envelope_and_trailing_junk_are_tolerated_with_warnings():
    body = b"\n".join(line for line in RHEVENDORS.splitlines() if not line.startswith((b"DXS", b"DXE")))
    audit = dex.parse(body + b"\n\x00\x00garbage after the end")
    assert "the DXS envelope header is missing" in audit.warnings
    assert "the DXE envelope trailer is missing" in audit.warnings
    assert audit.vends_value == 586530
    audit = dex.parse(RHEVENDORS + b"\r\nnot dex at all\r\n")
    assert any("trailing data after DXE" in w for w in audit.warnings)


@pytest.mark.parametrize(
    "content,reason",
    [
        (b"", "no DEX audit data"),
        (b"hello world\nthis is not dex", "no DEX audit data"),
        (b"DXS*X\nVA1*abc*1\nDXE*1*1", "VA1 field 1 is not a number"),
        (b"DXS*X\nID4*9\nDXE*1*1", "decimal places"),
    ],
)
def test_malformed_files_are_refused_with_a_specific_reason(content, reason):
    with pytest.raises(dex.DexError, match=reason):
        dex.parse(content)


@pytest.mark.django_db
def test_sales_between_reads_come_from_the_counters_and_a_reset_is_recognised():
    device = DeviceFactory()
    first, created = dex_import(device=device, content=RHEVENDORS, source="upload")
    assert created and first.sales_count == 0  # the first read is the baseline
    assert first.vends_value == Decimal("5865.30") and first.warnings
    # The same file again counts once.
    again, created = dex_import(device=device, content=RHEVENDORS, source="gateway")
    assert (again, created) == (first, False)
    # Selection 1 sold 3 more (at 0.50); selection 2's counters were reset and now show 4 vends.
    later = (
        RHEVENDORS.replace(b"PA2*602*29790*600*29790", b"PA2*605*29940*603*29940")
        .replace(b"PA2*1176*70440*1175*70440", b"PA2*4*240*4*240")
        .replace(b"ID5*231127*1011", b"ID5*231128*0900")
    )
    second, created = dex_import(device=device, content=later, source="gateway")
    assert created
    one = DexSelection.objects.get(read=second, selection="1")
    two = DexSelection.objects.get(read=second, selection="2")
    assert (one.count_sold, one.value_sold, one.counter_reset) == (3, Decimal("1.50"), False)
    assert (two.count_sold, two.value_sold, two.counter_reset) == (4, Decimal("2.40"), True)
    assert second.sales_count == 7
    assert DexRead.objects.count() == 2


@pytest.mark.django_db
def test_a_malformed_upload_stores_nothing():
    with pytest.raises(ValidationError):
        dex_import(device=DeviceFactory(), content=b"\x00\x01binary", source="upload")
    assert not DexRead.objects.exists()


@pytest.mark.django_db
def test_machines_send_dex_over_the_device_api_and_staff_upload_in_scope(api_client, world, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from devices.services import device_pair

    device = DeviceFactory(site=world.east_store)
    _d, token = device_pair(serial_number=device.serial_number)
    api_client.credentials(HTTP_AUTHORIZATION=f"Device {token}")
    headers = {"HTTP_CONTENT_DISPOSITION": "attachment; filename=audit.dex"}
    first = api_client.post("/api/v1/device/dex/", RHEVENDORS, content_type="text/plain", **headers)
    assert first.status_code == 201 and first.json()["vends_value"] == "5865.30"
    assert api_client.post("/api/v1/device/dex/", RHEVENDORS, content_type="text/plain", **headers).status_code == 200
    bad = api_client.post("/api/v1/device/dex/", b"garbage", content_type="text/plain", **headers)
    assert bad.status_code == 400 and "file" in bad.json()

    west = DeviceFactory(site=world.west_store)
    client.force_login(world.regional)
    response = client.post("/gateway/dex/upload/", {"device": west.pk, "file": SimpleUploadedFile("a.dex", ANIMO)})
    assert response.status_code == 200 and b"errorlist" in response.content  # not a device they may change
    response = client.post("/gateway/dex/upload/", {"device": device.pk, "file": SimpleUploadedFile("a.dex", ANIMO)})
    assert response.status_code == 302
    assert DexRead.objects.filter(device=device).count() == 2
    assert client.get(response.url).status_code == 200
