"""Shipping delivery orders (docs/adr/0034): labels with the carrier's waybill number, handing the
parcel over (PACKED -> SHIPPED), and the carrier's tracking steps (pushed to our callback or polled)
up to DELIVERED. The customer hears of the parcel leaving and arriving by SMS."""

from __future__ import annotations

import io
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fulfilment.carriers import PushRefused, TrackingUpdate, carrier_get
from fulfilment.models import Shipment, TrackingEvent
from orders.models import Order, OrderKind, OrderStatus
from orders.services import Actor, lock_order, order_note, order_transition

S = OrderStatus
LABELLABLE = {S.PACKED, S.SHIPPED, S.DELIVERED}
# Where a parcel's status may go: a delivered parcel stays delivered whatever arrives late.
FINAL = {Shipment.Status.DELIVERED}


def _refuse_unpacked(orders: list[Order]) -> None:
    not_delivery = [o.number for o in orders if o.kind != OrderKind.DELIVERY]
    if not_delivery:
        raise ValidationError(
            _("Only delivery orders are shipped: %(numbers)s.") % {"numbers": ", ".join(not_delivery)},
            code="not_delivery",
        )
    unpacked = [o.number for o in orders if o.status not in LABELLABLE]
    if unpacked:
        raise ValidationError(
            _("A label is printed only for a packed order; not packed yet: %(numbers)s.")
            % {"numbers": ", ".join(unpacked)},
            code="not_packed",
        )


def shipments_label(*, orders: Iterable[Order], carrier: str, actor) -> list[Shipment]:
    """The shipments of `orders` (all packed, else nothing is written), each with a waybill number
    from `carrier`; an order labelled before keeps its waybill (a reprint)."""
    actor = Actor.of(actor)
    orders = list(orders)
    if not orders:
        raise ValidationError(_("Choose at least one order."), code="empty")
    try:
        provider = carrier_get(carrier)
    except KeyError:
        raise ValidationError(_("Unknown carrier."), code="carrier") from None
    _refuse_unpacked(orders)
    shipments = []
    with transaction.atomic():
        for order in orders:
            locked = lock_order(order)
            _refuse_unpacked([locked])
            shipment = Shipment.objects.filter(order=locked).first()
            if shipment is None:
                shipment = Shipment.objects.create(
                    order=locked, carrier=carrier, waybill_number=provider.waybill_assign(shipment_order=locked)
                )
                order_note(
                    order=locked,
                    actor=actor,
                    action="shipment.labelled",
                    data={"carrier": carrier, "waybill": shipment.waybill_number},
                )
            shipments.append(shipment)
    return shipments


def shipment_ship(*, order: Order, actor) -> Shipment:
    """Hand the labelled parcel to the carrier: PACKED -> SHIPPED, the customer told by SMS."""
    actor = Actor.of(actor)
    with transaction.atomic():
        locked = lock_order(order)
        shipment = Shipment.objects.select_for_update().filter(order=locked).first()
        if shipment is None:
            raise ValidationError(_("Print the label first: the parcel has no waybill number yet."), code="no_label")
        if locked.status != S.PACKED:
            raise ValidationError(
                _("Order %(number)s is %(status)s, not packed: it cannot be shipped.")
                % {"number": locked.number, "status": locked.get_status_display()},
                code="not_packed",
            )
        shipment.status = Shipment.Status.SHIPPED
        shipment.shipped_at = timezone.now()
        shipment.save(update_fields=["status", "shipped_at"])
        order_transition(
            order=locked,
            to_status=S.SHIPPED,
            actor=actor,
            action="shipped",
            data={"carrier": shipment.carrier, "waybill": shipment.waybill_number},
            locked=True,
        )
        _notify(locked, "order_shipped", shipment)
    order.status = locked.status
    return shipment


def _notify(order: Order, template: str, shipment: Shipment) -> None:
    from core.services import notification_send_to_address

    delivery = getattr(order, "delivery", None)
    phone = getattr(delivery, "phone", "")
    if not phone:
        return
    notification_send_to_address(
        template=template,
        channel="sms",
        address=phone,
        context={
            "number": order.number,
            "carrier": str(carrier_get(shipment.carrier).name),
            "waybill": shipment.waybill_number,
        },
        region=order.region,
    )


def tracking_push(*, carrier: str, request) -> list[TrackingEvent]:
    """A tracking push at our callback: verified by the carrier, every waybill in it known, else
    PushRefused and nothing written."""
    try:
        provider = carrier_get(carrier)
    except KeyError:
        raise PushRefused(_("Unknown carrier."), status=404) from None
    updates = provider.push_parse(request)
    return tracking_apply(carrier=carrier, updates=updates, source="push")


def tracking_apply(*, carrier: str, updates: list[TrackingUpdate], source: str) -> list[TrackingEvent]:
    waybills = {u.waybill_number for u in updates}
    shipments = {
        s.waybill_number: s
        for s in Shipment.objects.select_related("order").filter(carrier=carrier, waybill_number__in=waybills)
    }
    unknown = sorted(waybills - set(shipments))
    if unknown:
        raise PushRefused(_("Unknown waybill number: %(numbers)s.") % {"numbers": ", ".join(unknown)}, status=404)
    created = []
    actor = Actor.system(f"carrier:{carrier}")
    with transaction.atomic():
        for update in sorted(updates, key=lambda u: u.at):
            shipment = Shipment.objects.select_for_update().get(pk=shipments[update.waybill_number].pk)
            if shipment.status == Shipment.Status.LABELLED:
                raise PushRefused(_("The parcel has not been shipped yet."), status=409)
            try:
                with transaction.atomic():
                    event = TrackingEvent.objects.create(
                        shipment=shipment,
                        at=update.at,
                        status=update.status,
                        description=update.description,
                        location=update.location,
                        source=source,
                    )
            except IntegrityError:
                continue  # the same step pushed again
            created.append(event)
            order = lock_order(shipment.order_id)
            order_note(
                order=order,
                actor=actor,
                action="shipment.tracking",
                reason=update.description,
                data={"waybill": shipment.waybill_number, "status": update.status, "source": source},
            )
            if shipment.status in FINAL:
                continue
            shipment.status = update.status
            fields = ["status"]
            if update.status == Shipment.Status.DELIVERED:
                shipment.delivered_at = update.at
                fields.append("delivered_at")
            shipment.save(update_fields=fields)
            if update.status == Shipment.Status.DELIVERED and order.status == S.SHIPPED:
                order_transition(
                    order=order,
                    to_status=S.DELIVERED,
                    actor=actor,
                    action="delivered",
                    data={"waybill": shipment.waybill_number},
                    locked=True,
                )
                _notify(order, "order_delivered", shipment)
    return created


def tracking_poll(*, limit: int = 200) -> int:
    """Ask each carrier about parcels still on their way (missed pushes); the beat job's work."""
    count = 0
    open_statuses = [Shipment.Status.SHIPPED, Shipment.Status.IN_TRANSIT, Shipment.Status.PROBLEM]
    for shipment in Shipment.objects.filter(status__in=open_statuses).order_by("shipped_at")[:limit]:
        try:
            updates = carrier_get(shipment.carrier).poll(waybill_number=shipment.waybill_number)
        except KeyError:
            continue
        if updates:
            try:
                count += len(tracking_apply(carrier=shipment.carrier, updates=updates, source="poll"))
            except PushRefused:
                continue
    return count


# --- Labels ------------------------------------------------------------------------------------
def labels_pdf(shipments: list[Shipment]) -> bytes:
    """One A6 page per parcel: the consignment label (waybill barcode, recipient, sender) with the
    shipping note (what is in the parcel) below it."""
    from reportlab.graphics.barcode import code128
    from reportlab.lib.pagesizes import A6
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    if "STSong-Light" not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A6)
    pdf.setTitle(_("Shipping labels"))
    width, height = A6
    for shipment in shipments:
        order = shipment.order
        delivery = getattr(order, "delivery", None)
        y = height - 10 * mm
        pdf.setFont("Helvetica-Bold", 11)
        pdf.drawString(8 * mm, y, f"{carrier_get(shipment.carrier).name}")
        pdf.setFont("Helvetica", 9)
        pdf.drawRightString(width - 8 * mm, y, order.number)
        barcode = code128.Code128(shipment.waybill_number, barHeight=16 * mm, barWidth=0.33 * mm)
        y -= 22 * mm
        barcode.drawOn(pdf, (width - barcode.width) / 2, y)
        y -= 5 * mm
        pdf.setFont("Helvetica-Bold", 12)
        pdf.drawCentredString(width / 2, y, shipment.waybill_number)
        pdf.setFont("STSong-Light", 10)
        y -= 9 * mm
        if delivery is not None:
            pdf.drawString(8 * mm, y, f"{pgettext('recipient', 'To')}: {delivery.recipient_name}  {delivery.phone}")
            y -= 5 * mm
            pdf.drawString(8 * mm, y, f"{delivery.province} {delivery.city} {delivery.district}")
            y -= 5 * mm
            pdf.drawString(8 * mm, y, delivery.address[:40])
            y -= 5 * mm
            if delivery.postcode:
                pdf.drawString(8 * mm, y, delivery.postcode)
                y -= 5 * mm
        y -= 3 * mm
        pdf.line(8 * mm, y, width - 8 * mm, y)
        y -= 6 * mm
        pdf.drawString(8 * mm, y, _("Shipping note"))
        pdf.setFont("STSong-Light", 9)
        for line in order.lines.all():
            y -= 5 * mm
            if y < 10 * mm:
                break
            pdf.drawString(8 * mm, y, f"{line.quantity} × {line.description[:36]}")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
