"""Console pages of the forecasts: the fleet's accuracy with its machines and products, and a page
per machine and per product with the chart (sold, forecast, interval) and each slot's basis and
backtest error next to seasonal naive."""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.console import nav_register
from devices.models import Device
from forecasts import selectors
from forecasts.demand import basis_label

PERMISSION = "forecasts.view_slotforecast"


def _allowed(request):
    if not request.user.has_perm(PERMISSION):
        raise PermissionDenied


def _slot_rows(forecasts):
    return [{"forecast": f, "basis": basis_label(f)} for f in forecasts]


def forecast_index(request):
    _allowed(request)
    forecasts = list(selectors.forecast_list(user=request.user))
    return render(
        request,
        "forecasts/index.html",
        {
            "accuracy": selectors.accuracy(forecasts),
            "machines": selectors.machine_rows(forecasts),
            "products": selectors.product_rows(forecasts)[:50],
            "start": min((f.start for f in forecasts), default=None),
            "fitted_at": max((f.fitted_at for f in forecasts), default=None),
        },
    )


def _chosen_slot(request, forecasts):
    """`?slot=<stock level id>` charts one slot of the page; an id not on the page is a 404."""
    raw = request.GET.get("slot", "")
    if not raw:
        return None
    try:
        level_id = int(raw)
    except ValueError:
        raise Http404 from None
    for forecast in forecasts:
        if forecast.level_id == level_id:
            return forecast
    raise Http404


def _page(request, *, title, forecasts, kind, obj):
    chosen = _chosen_slot(request, forecasts)
    return render(
        request,
        "forecasts/forecast.html",
        {
            "title": title,
            "kind": kind,
            "object": obj,
            "chosen": chosen,
            "chart": selectors.forecast_chart([chosen] if chosen else forecasts),
            "accuracy": selectors.accuracy(forecasts),
            "chosen_accuracy": selectors.accuracy([chosen]) if chosen else None,
            "slots": _slot_rows(forecasts),
            "start": min((f.start for f in forecasts), default=None),
        },
    )


def machine_forecast(request, pk):
    _allowed(request)
    device = get_object_or_404(Device.objects.restrict(request.user), pk=pk)
    forecasts = list(
        selectors.forecast_list(user=request.user).filter(device=device).order_by("level__location__code", "pk")
    )
    return _page(request, title=device.name, forecasts=forecasts, kind="machine", obj=device)


def product_forecast(request, pk):
    _allowed(request)
    product = get_object_or_404(Product.objects.restrict(request.user), pk=pk)
    forecasts = list(selectors.forecast_list(user=request.user).filter(product=product).order_by("device__name", "pk"))
    return _page(request, title=product.name, forecasts=forecasts, kind="product", obj=product)


nav_register(
    section=_("Fleet"), label=_("Demand forecasts"), url_name="forecasts:index", permission=PERMISSION, order=28
)
