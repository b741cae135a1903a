"""On PostgreSQL: two finance users uploading the same statement at the same moment import it
once; the other is told it was already imported (StatementDay's unique constraint decides)."""

import threading

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounting.recon_models import Statement, StatementDay, StatementLine
from tests.accounting.recon_helpers import FILES, statement_bytes

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("same_bytes", [True, False], ids=["same-file", "same-day-other-file"])
def test_two_simultaneous_imports_of_one_statement_import_once(world, monkeypatch, same_bytes):
    from accounting import reconciliation

    real_audit = reconciliation.audit_record
    inside = threading.Event()

    def slow_audit(**kwargs):
        inside.set()
        threading.Event().wait(0.5)  # hold the first import's transaction open while the twin arrives
        return real_audit(**kwargs)

    monkeypatch.setattr(reconciliation, "audit_record", slow_audit)
    monkeypatch.setattr(reconciliation, "_schedule_reconcile", lambda provider, day: None)
    content = statement_bytes(FILES["wechat"])
    results = []
    barrier = threading.Barrier(2)

    def upload(suffix: bytes):
        try:
            client = Client()
            client.force_login(world.finance)
            barrier.wait()
            response = client.post(
                reverse("accounting:statement-upload"),
                {
                    "provider": "wechat",
                    "region": world.root.pk,
                    "file": SimpleUploadedFile("bill.csv", content + suffix),
                },
            )
            results.append((response.status_code, response.content.decode()))
        finally:
            connection.close()

    suffixes = [b"", b""] if same_bytes else [b"", b"\r\n"]
    threads = [threading.Thread(target=upload, args=(suffix,)) for suffix in suffixes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert inside.is_set()
    assert sorted(code for code, _body in results) == [302, 400], [code for code, _b in results]
    assert "already imported" in next(body for code, body in results if code == 400)
    assert Statement.objects.count() == 1
    assert StatementDay.objects.count() == 1
    assert StatementLine.objects.count() == 5


def test_two_reconciliation_runs_at_once_record_each_item_once(world, monkeypatch):
    """The import's own run and the daily run may overlap: the statement day is their lock."""
    from accounting import reconciliation
    from accounting.recon_models import ReconItem
    from accounting.reconciliation import reconcile_day, statement_import
    from tests.accounting.recon_helpers import DAY, wechat_side

    monkeypatch.setattr(reconciliation, "_schedule_reconcile", lambda provider, day: None)
    wechat_side(world.east_store)
    statement_import(
        actor=world.finance,
        provider="wechat",
        region=world.root,
        file_name="bill.csv",
        content=statement_bytes(FILES["wechat"]),
    )
    errors, barrier = [], threading.Barrier(2)

    def run():
        try:
            barrier.wait()
            reconcile_day(provider="wechat", day=DAY)
        except Exception as error:  # noqa: BLE001 - the test reports whatever went wrong
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert ReconItem.objects.filter(day=DAY).count() == 6
    assert ReconItem.objects.filter(day=DAY, status="open").count() == 4
