"""Importing DEX audit reads. The same file twice for one machine is stored once; sales between
consecutive reads come from the cumulative counters, a counter that went down being a reset."""

from __future__ import annotations

import hashlib
import logging

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
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
    previous = DexRead.objects.select_for_update().filter(device=device).order_by("-received_at", "-pk").first()
    previous_selections = {s.selection: s for s in previous.selections.all()} if previous else {}
    read_at = timezone.make_aware(audit.read_at) if audit.read_at else None
    read = DexRead.objects.create(
        device=device,
        read_at=read_at,
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
        raw=raw.decode("latin-1"),
        actor_label=str(getattr(actor, "username", None) or actor or "system")[:150],
    )
    rows = []
    for selection in audit.selections.values():
        value_total = audit.money(selection.value)
        before = previous_selections.get(selection.selection)
        reset = before is not None and (selection.count < before.count_total or value_total < before.value_total)
        if previous is None:
            count_sold, value_sold = 0, audit.money(0)  # the first read is the baseline
        elif before is None or reset:
            count_sold, value_sold = selection.count, value_total  # new selection, or counters restarted
        else:
            count_sold, value_sold = selection.count - before.count_total, value_total - before.value_total
        rows.append(
            DexSelection(
                read=read,
                selection=selection.selection,
                name=selection.name,
                price=audit.money(selection.price),
                count_total=selection.count,
                value_total=value_total,
                count_sold=count_sold,
                value_sold=value_sold,
                counter_reset=reset,
            )
        )
    DexSelection.objects.bulk_create(rows)
    if previous is not None:
        read.sales_count = sum(r.count_sold for r in rows)
        read.sales_value = sum((r.value_sold for r in rows), start=audit.money(0))
        read.save(update_fields=["sales_count", "sales_value"])
    audit_record(
        actor=actor,
        action="gateway.dex_import",
        obj=read,
        region=device.site.region,
        changes={"warnings": len(audit.warnings), "selections": len(rows)},
    )
    return read
