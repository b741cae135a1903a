"""The reconciliation pages through HTTP: finance uploads a statement, sees the summary and the
differences, resolves one with a note (audited); a clerk is refused; a regional administrator
sees only their regions' lines and cannot resolve; bad uploads say why and change nothing."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from accounting.recon_models import ReconItem, Statement
from core.models import AuditEntry
from tests.accounting.recon_helpers import DAY, FILES, statement_bytes, wechat_side
from tests.reconciliation.builders import recon_item_in

pytestmark = pytest.mark.django_db


def _upload(client, world, provider, name, content=None):
    return client.post(
        reverse("accounting:statement-upload"),
        {
            "provider": provider,
            "region": world.root.pk,
            "file": SimpleUploadedFile(name, content if content is not None else statement_bytes(name)),
        },
    )


def test_finance_uploads_reconciles_and_resolves(world, client, django_capture_on_commit_callbacks):
    wechat_side(world.east_store)
    client.force_login(world.finance)
    with django_capture_on_commit_callbacks(execute=True):
        response = _upload(client, world, "wechat", FILES["wechat"])
    assert response.status_code == 302
    statement = Statement.objects.get()
    assert response["Location"] == reverse("accounting:statement-detail", args=[statement.pk])
    assert "WX-STRANGER" in client.get(response["Location"]).content.decode()
    # The import scheduled the day's reconciliation; the summary shows it red with 4 open.
    summary = client.get(reverse("accounting:recon-summary"), {"start": DAY, "end": DAY}).content.decode()
    assert "4 open" in summary and "Not reconciled" in summary
    listing = client.get(reverse("accounting:recon-item-list"), {"status": "open"}).content.decode()
    for name in ("Amount differs", "Fee differs from the configured rate", "Ours only", "Theirs only"):
        assert name in listing
    for item in ReconItem.objects.filter(status=ReconItem.Status.OPEN):
        page = client.post(
            reverse("accounting:recon-item-detail", args=[item.pk]), {"note": f"Checked {item.reference}"}
        )
        assert page.status_code == 302
    assert AuditEntry.objects.filter(action="reconciliation.resolve").count() == 4
    summary = client.get(reverse("accounting:recon-summary"), {"start": DAY, "end": DAY}).content.decode()
    assert "Not reconciled" not in summary and "Reconciled" in summary


def test_the_same_file_again_says_so_and_changes_nothing(world, client):
    client.force_login(world.finance)
    assert _upload(client, world, "wechat", FILES["wechat"]).status_code == 302
    response = _upload(client, world, "wechat", FILES["wechat"])
    assert response.status_code == 400 and "already imported" in response.content.decode()
    assert Statement.objects.count() == 1


def test_a_wrong_provider_or_broken_file_is_refused_with_the_line(world, client):
    client.force_login(world.finance)
    response = _upload(client, world, "alipay", FILES["wechat"])
    assert response.status_code == 400
    assert "This file is a WeChat Pay statement, but Alipay was chosen" in response.content.decode()
    broken = statement_bytes(FILES["alipay"]).decode("gbk").replace("20.00", "2O.00", 1).encode("gbk")
    response = _upload(client, world, "alipay", FILES["alipay"], broken)
    assert response.status_code == 400 and "Line 8" in response.content.decode()
    assert not Statement.objects.exists()


def test_a_resolution_needs_a_note(world, client):
    item = recon_item_in(world.east)
    client.force_login(world.finance)
    response = client.post(reverse("accounting:recon-item-detail", args=[item.pk]), {"note": ""})
    assert response.status_code == 400
    item.refresh_from_db()
    assert item.status == ReconItem.Status.OPEN


def test_a_clerk_is_refused_everywhere(world, client):
    item = recon_item_in(world.east)
    client.force_login(world.clerk)
    for name, args in (
        ("recon-summary", []),
        ("recon-item-list", []),
        ("recon-item-detail", [item.pk]),
        ("statement-upload", []),
        ("journal", []),
    ):
        assert client.get(reverse(f"accounting:{name}", args=args)).status_code == 403, name
    assert client.post(reverse("accounting:recon-item-detail", args=[item.pk]), {"note": "x"}).status_code == 403
    assert _upload(client, world, "wechat", FILES["wechat"]).status_code == 403
    item.refresh_from_db()
    assert item.status == ReconItem.Status.OPEN and not Statement.objects.exists()


def test_a_regional_admin_sees_own_regions_and_cannot_resolve(world, client):
    mine, theirs = recon_item_in(world.east), recon_item_in(world.west)
    client.force_login(world.regional)
    listing = client.get(reverse("accounting:recon-item-list")).content.decode()
    assert f'data-pk="{mine.pk}"' in listing and f'data-pk="{theirs.pk}"' not in listing
    assert client.get(reverse("accounting:recon-item-detail", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("accounting:recon-item-detail", args=[mine.pk]), {"note": "x"}).status_code == 403


def test_a_finance_user_of_one_region_cannot_resolve_anothers(world, client):
    from core.services import scope_grant
    from tests.factories import UserFactory

    east_finance = UserFactory(role="finance")
    scope_grant(actor=None, user=east_finance, target=world.east, action="view")
    theirs = recon_item_in(world.west)
    client.force_login(east_finance)
    assert client.post(reverse("accounting:recon-item-detail", args=[theirs.pk]), {"note": "x"}).status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == ReconItem.Status.OPEN


def test_the_summary_shows_the_shifts_cash(world, client):
    from staff.counter import shift_close, shift_open

    shift = shift_open(actor=world.clerk, site=world.east_store, opening_float=Decimal("100.00"))
    shift_close(actor=world.clerk, shift=shift, counted_amount=Decimal("99.00"))
    client.force_login(world.finance)
    page = client.get(reverse("accounting:recon-summary")).content.decode()
    assert "expected 100.00, counted 99.00" in page
    assert "1 difference without a note" in page
