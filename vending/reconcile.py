"""DEX reconciliation: what a machine's audit says it vended per selection since its previous
read, against the vending orders the platform completed for that machine and slot in the same
period. A positive difference is vends the platform never saw (cash sales, a sale made offline);
a negative one is sales the machine does not count. Periods run in the machine's own read time
(ADR 0009). Accepting a difference writes it as a stock adjustment on the slot, once, with the
reason and the actor."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from gateway.models import DexRead
from gateway.services import dex_read_previous
from inventory.services import stock_move
from orders.models import OrderStatus
from vending.models import DexAdjustment, Slot, Vend


@dataclass
class Line:
    selection: str
    name: str
    dex_count: int
    platform_count: int
    slot: Slot | None
    adjustment: DexAdjustment | None

    @property
    def difference(self) -> int:
        return self.dex_count - self.platform_count


def period_of(read: DexRead):
    """From the previous audit to this one, in the machine's own time: a read delivered days late
    still covers the days before it was taken, not the days before it arrived."""
    previous = dex_read_previous(read)
    return (previous.taken_at if previous else None), read.taken_at


def reconcile(read: DexRead) -> list[Line]:
    start, end = period_of(read)
    vends = Vend.objects.filter(device=read.device, order__status=OrderStatus.COMPLETED, order__completed_at__lte=end)
    if start is not None:
        vends = vends.filter(order__completed_at__gt=start)
    counted = dict(vends.values("slot__code").annotate(n=Count("pk")).values_list("slot__code", "n"))
    slots = {slot.code: slot for slot in Slot.objects.filter(device=read.device).select_related("product", "level")}
    adjusted = {a.selection: a for a in DexAdjustment.objects.filter(read=read)}
    lines = []
    seen = set()
    for selection in read.selections.all().order_by("selection"):
        seen.add(selection.selection)
        lines.append(
            Line(
                selection=selection.selection,
                name=selection.name,
                dex_count=selection.count_sold,
                platform_count=counted.get(selection.selection, 0),
                slot=slots.get(selection.selection),
                adjustment=adjusted.get(selection.selection),
            )
        )
    for code, n in counted.items():  # sold on the platform, absent from the audit
        if code not in seen:
            lines.append(Line(code, "", 0, n, slots.get(code), adjusted.get(code)))
    return lines


def difference_accept(*, read: DexRead, selection: str, actor, reason: str) -> DexAdjustment:
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the difference is accepted.")})
    line = next((line for line in reconcile(read) if line.selection == selection), None)
    if line is None:
        raise ValidationError(_("Selection %(selection)s is not in this read.") % {"selection": selection})
    if line.slot is None:
        raise ValidationError(_("Selection %(selection)s has no slot on the platform.") % {"selection": selection})
    if line.difference == 0:
        raise ValidationError(_("Nothing to adjust: the counts agree."))
    label = getattr(actor, "get_username", lambda: str(actor))()
    try:
        with transaction.atomic():
            adjustment = DexAdjustment.objects.create(
                read=read,
                selection=selection,
                slot=line.slot,
                difference=line.difference,
                reason=reason.strip()[:255],
                actor_label=label[:150],
            )
            stock_move(
                level=line.slot.level,
                quantity=-line.difference,
                reason="adjustment",
                actor=actor,
                reference=f"dex-{read.pk}-{selection}",
                note=reason.strip(),
            )
    except IntegrityError:
        raise ValidationError(_("This difference was already accepted.")) from None
    return adjustment
