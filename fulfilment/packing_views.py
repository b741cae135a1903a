"""The phone-sized picking pages (docs/adr/0033): the warehouses a packer may work in, a
warehouse's pick list, and one order's page where each scan (a keyboard-mode scanner or the phone
camera) is posted with its device-made scan id. Writes go through fulfilment.packing."""

import json
import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_POST

from core.console import nav_register
from fulfilment import packing
from orders.models import Order, OrderStatus

VIEW = "fulfilment.view_packscan"
SCAN = "fulfilment.add_packscan"


def _allowed(request, permission):
    if not request.user.is_authenticated or not request.user.has_perm(permission):
        raise PermissionDenied


def _warehouse(request, pk):
    return get_object_or_404(packing.warehouses_for(request.user), pk=pk)


def _order_at(request, pk):
    """The delivery order and the warehouse it is picked at: `?warehouse=` when the order is split
    across warehouses, else the first of the user's warehouses holding some of it. Not found
    when none of the user's warehouses holds any of it."""
    raw = request.GET.get("warehouse", "")
    if raw and not raw.isdigit():
        raise Http404
    try:
        return packing.order_for_picking(
            order_pk=pk, warehouses=packing.warehouses_for(request.user), warehouse_pk=int(raw) if raw else None
        )
    except Order.DoesNotExist:
        raise Http404 from None


@require_GET
def picking_home(request):
    """The warehouses the user may pick in, with how many orders wait in each."""
    _allowed(request, VIEW)
    warehouses = [
        {"site": site, "orders": len(packing.pick_list(warehouse=site))}
        for site in packing.warehouses_for(request.user)
    ]
    return render(request, "fulfilment/packing/home.html", {"warehouses": warehouses})


@require_GET
def pick_list(request, warehouse):
    _allowed(request, VIEW)
    site = _warehouse(request, warehouse)
    return render(
        request, "fulfilment/packing/pick_list.html", {"warehouse": site, "orders": packing.pick_list(warehouse=site)}
    )


@require_GET
def pick_order(request, pk):
    """One order's picking page: its lines here, the start button, the scan box and the camera."""
    _allowed(request, VIEW)
    order, site = _order_at(request, pk)
    return render(
        request,
        "fulfilment/packing/order.html",
        {
            "warehouse": site,
            "order": order,
            "lines": packing.order_lines(order=order, warehouse=site),
            "scans": order.pack_scans.filter(allocation__level__location__site=site)
            .select_related("allocation__level__product", "actor")
            .order_by("-at", "-pk")[:20],
            "picking": order.status == OrderStatus.PICKING,
            "can_scan": request.user.has_perm(SCAN),
            "scan_id": uuid.uuid4(),  # for the form without script; the script makes one per scan
            "messages_js": {
                "network": gettext("No connection: the scan is sent again."),
                "failed": gettext("The scan could not be sent; scan it again."),
                "camera": gettext("The camera cannot be used here."),
                "stop": gettext("Stop the camera"),
            },
        },
    )


@require_POST
def pick_start(request, pk):
    _allowed(request, SCAN)
    order, site = _order_at(request, pk)
    try:
        packing.picking_start(order=order, warehouse=site, actor=request.user)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return _back(order, site)


def _back(order, site):
    return redirect(f"{reverse('fulfilment:packing-order', args=[order.pk])}?warehouse={site.pk}")


def _wants_json(request) -> bool:
    return request.content_type == "application/json" or "application/json" in request.headers.get("Accept", "")


@require_POST
def pick_scan(request, pk):
    """One scan: JSON {scan_id, barcode} from the page's script (answered in JSON), or the page's
    form without script (answered with a message on the page)."""
    _allowed(request, SCAN)
    order, site = _order_at(request, pk)
    as_json = _wants_json(request)
    if request.content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return JsonResponse({"ok": False, "message": gettext("Send the scan as a JSON object.")}, status=400)
    else:
        data = request.POST
    try:
        result = packing.pack_scan(
            order=order,
            warehouse=site,
            scan_id=data.get("scan_id"),
            barcode=str(data.get("barcode") or ""),
            actor=request.user,
        )
    except ValidationError as error:
        message = " ".join(error.messages)
        if as_json:
            # A refused scan is an answer, not a failure: the page says it and beeps.
            return JsonResponse({"ok": False, "message": message})
        messages.error(request, message)
        return _back(order, site)
    message = result.message
    if result.packed:
        message = f"{message} {gettext('Order %(number)s is packed.') % {'number': result.order.number}}"
    if as_json:
        return JsonResponse(
            {
                "ok": True,
                "repeated": result.repeated,
                "message": message,
                "packed": result.packed,
                "status": result.order.status,
                "status_label": result.order.get_status_display(),
                "lines": result.lines,
            }
        )
    messages.success(request, message)
    return _back(order, site)


nav_register(
    section=_("Orders"),
    label=_("Picking and packing"),
    url_name="fulfilment:packing-home",
    permission=VIEW,
    order=40,
)
