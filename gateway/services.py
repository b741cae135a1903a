"""Importing DEX audit reads. The same file twice for one machine is stored once; sales between
consecutive reads come from the cumulative counters, a counter that went down being a reset.
Consecutive means in the machine's own time (`taken_at`), not in arrival order: a read delivered
late is slotted in where it was taken and the read after it is recounted from it (ADR 0009)."""

from __future__ import annotations

import hashlib
import logging
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.services import audit_record
from devices.models import Device
from gateway import dex
from gateway.models import DexRead, DexSelection

logger = logging.getLogger(__name__)


def dex_import(*, device: Device, content: bytes | str, source: str, actor=None) -> tuple[DexRead, bool]:
    """Parse and store a DEX read; returns (read, created). Raises ValidationError naming the
    problem for a file that is not a DEX audit (nothing is stored)."""
    raw = content.encode("latin-1", errors="replace") if isinstance(content, str) else content
    try:
        audit = dex.parse(raw)
    except dex.DexError as error:
        logger.warning("DEX from device %s refused: %s", device.pk, error)
        raise ValidationError({"file": _("Not a usable DEX file: %(reason)s") % {"reason": error}}) from None
    digest = hashlib.sha256(raw).hexdigest()
    existing = DexRead.objects.filter(device=device, sha256=digest).first()
    if existing:
        return existing, False
    if (
        audit.machine_serial
        and device.serial_number not in audit.machine_serial
        and audit.machine_serial not in (device.serial_number)
    ):
        audit.warnings.append(f"the file's machine serial {audit.machine_serial} is not this device's")
    try:
        with transaction.atomic():
            read = _store(device, audit, raw, digest, source, actor)
    except IntegrityError:
        return DexRead.objects.get(device=device, sha256=digest), False  # a concurrent import of the same file
    return read, True


def _store(device, audit: dex.DexAudit, raw: bytes, digest: str, source: str, actor) -> DexRead:
    # The machine's row is the lock: two imports for one machine (even its first two) queue, so each
    # sees the other's read when it finds its neighbours in time.
    Device.objects.select_for_update().filter(pk=device.pk).values_list("pk", flat=True).first()
    read_at = timezone.make_aware(audit.read_at) if audit.read_at else None
    read = DexRead.objects.create(
        device=device,
        read_at=read_at,
        taken_at=read_at or timezone.now(),
        source=source,
        sha256=digest,
        machine_serial=audit.machine_serial,
        currency_decimals=audit.decimals,
        vends_count=audit.vends_count,
        vends_value=audit.money(audit.vends_value),
        cash_value=audit.money(audit.cash_value),
        cashless_value=audit.money(audit.cashless_value),
        warnings=audit.warnings,
        unknown_segments=audit.unknown[:2000],
        raw=raw,
        actor_label=str(getattr(actor, "username", None) or actor or "system")[:150],
    )
    DexSelection.objects.bulk_create(
        DexSelection(
            read=read,
            selection=selection.selection,
            name=selection.name,
            price=audit.money(selection.price),
            count_total=selection.count,
            value_total=audit.money(selection.value),
        )
        for selection in audit.selections.values()
    )
    _sales_since_previous(read)
    following = dex_read_next(read)
    if following is not None:
        # A read that arrives late sits between two reads: the one after it now counts from it.
        read.warnings = [*read.warnings, "this read arrived after a later one from the same machine"]
        read.save(update_fields=["warnings"])
        _sales_since_previous(following)
    audit_record(
        actor=actor,
        action="gateway.dex_import",
        obj=read,
        region=device.site.region,
        changes={"warnings": len(audit.warnings), "selections": len(audit.selections), "late": following is not None},
    )
    return read


def dex_read_previous(read: DexRead) -> DexRead | None:
    """The read the machine took before `read` (machine time, then arrival order for a tie)."""
    earlier = Q(taken_at__lt=read.taken_at) | Q(taken_at=read.taken_at, pk__lt=read.pk)
    return DexRead.objects.filter(earlier, device_id=read.device_id).order_by("-taken_at", "-pk").first()


def dex_read_next(read: DexRead) -> DexRead | None:
    later = Q(taken_at__gt=read.taken_at) | Q(taken_at=read.taken_at, pk__gt=read.pk)
    return DexRead.objects.filter(later, device_id=read.device_id).order_by("taken_at", "pk").first()


def _sales_since_previous(read: DexRead) -> None:
    """Sales per selection between the previous read (machine time) and `read`, from the cumulative
    counters: a counter lower than before is a reset, and then its whole count is the sales."""
    previous = dex_read_previous(read)
    before = {s.selection: s for s in previous.selections.all()} if previous else {}
    rows = list(read.selections.all())
    for row in rows:
        earlier = before.get(row.selection)
        row.counter_reset = earlier is not None and (
            row.count_total < earlier.count_total or row.value_total < earlier.value_total
        )
        if previous is None:
            row.count_sold, row.value_sold = 0, Decimal(0)  # the first read is the baseline
        elif earlier is None or row.counter_reset:
            row.count_sold, row.value_sold = row.count_total, row.value_total  # new selection, or counters restarted
        else:
            row.count_sold, row.value_sold = (
                row.count_total - earlier.count_total,
                row.value_total - earlier.value_total,
            )
    DexSelection.objects.bulk_update(rows, ["count_sold", "value_sold", "counter_reset"])
    read.sales_count = sum(row.count_sold for row in rows)
    read.sales_value = sum((row.value_sold for row in rows), start=Decimal(0))
    read.save(update_fields=["sales_count", "sales_value"])
