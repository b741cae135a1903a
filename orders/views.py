"""Console pages of orders: the unified inquiry and the order page with its operation log."""

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.generic import View

from core.console import ConsoleMixin, ScopedListView, nav_register
from orders.filters import OrderFilter
from orders.models import Order
from orders.selectors import order_detail


class OrderListView(ScopedListView):
    model = Order
    url_name = "orders:order-list"
    detail_url_name = "orders:order-detail"
    title = _("Orders")
    filterset_class = OrderFilter
    select_related = ("customer", "site", "device", "region")
    columns = [
        ("number", _("Number")),
        ("kind", _("Kind")),
        ("status", _("Status")),
        ("created_at", _("Created")),
        ("site", _("Site")),
        ("device", _("Device")),
        ("customer", _("Customer")),
        ("total", _("Total")),
        ("paid_amount", _("Paid")),
        ("refunded_amount", _("Refunded")),
    ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(live_script="orders/live.js", live_status_attr="status", live_labels=_status_labels())
        return context


def _status_labels() -> dict:
    from orders.models import OrderStatus

    return {value: str(label) for value, label in OrderStatus.choices}


class OrderDetailView(ConsoleMixin, View):
    permission_required = "orders.view_order"

    def get(self, request, pk):
        try:
            order = order_detail(user=request.user, pk=pk)
        except Order.DoesNotExist:
            raise Http404 from None
        return render(request, "orders/order_detail.html", {"order": order, "live_labels": _status_labels()})


nav_register(
    section=_("Orders"),
    label=_("Order inquiry"),
    url_name="orders:order-list",
    permission="orders.view_order",
    order=10,
)
