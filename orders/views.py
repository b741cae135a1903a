"""Console pages of orders: the unified inquiry and the order page with its operation log."""

from decimal import Decimal

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import View

from core.console import ConsoleMixin, ScopedListView, nav_register
from core.live import choice_labels
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
        query = self.request.GET.copy()
        query.pop("page", None)
        context["exports"] = [
            {"label": label, "url": f"{reverse('orders:order-export')}?{query.urlencode()}&format={fmt}"}
            for fmt, label in (("csv", _("Export CSV")), ("xlsx", _("Export Excel")))
        ]
        return context


EXPORT_COLUMNS = [
    ("number", _("Number")),
    ("kind", _("Kind")),
    ("status", _("Status")),
    ("created_at", _("Created")),
    ("paid_at", _("Paid at")),
    ("region", _("Region")),
    ("site", _("Site")),
    ("device", _("Device")),
    ("customer", _("Customer")),
    ("subtotal", _("Subtotal")),
    ("discount_total", _("Discount")),
    ("total", _("Total")),
    ("paid_amount", _("Paid")),
    ("refunded_amount", _("Refunded")),
]
EXPORT_LIMIT = 50_000


def order_export(request):
    """The order inquiry as CSV or Excel, with the same filters and the same scope as the page."""
    from django.core.exceptions import PermissionDenied

    from core.exports import FORMATS, table_response

    if not request.user.has_perm("orders.view_order"):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise Http404
    queryset = Order.objects.restrict(request.user).select_related("region", "site", "device", "customer")
    filterset = OrderFilter(request.GET or None, queryset=queryset, request=request)
    if filterset.is_bound and filterset.is_valid():
        queryset = filterset.qs
    rows = []
    for order in queryset.order_by("-created_at")[:EXPORT_LIMIT]:
        row = []
        for attr, _label in EXPORT_COLUMNS:
            value = getattr(order, attr)
            display = getattr(order, f"get_{attr}_display", None)
            if callable(display):
                value = display()
            elif hasattr(value, "isoformat"):
                value = value.isoformat()
            elif value is not None and not isinstance(value, int | str | Decimal):
                value = str(value)
            row.append("" if value is None else value)
        rows.append(row)
    headers = [str(label) for _attr, label in EXPORT_COLUMNS]
    return table_response(headers, rows, fmt, filename="orders", sheet="orders")


def _status_labels() -> dict:
    from orders.models import OrderStatus

    return choice_labels(OrderStatus.choices)


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
