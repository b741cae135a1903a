"""Console pages of orders: the unified inquiry and the order page with its operation log."""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.generic import View

from core.console import ConsoleMixin, KeysetListView, nav_register
from core.db_router import reads_from_replica
from core.exports import Exporter, exporter_register
from core.live import choice_labels
from orders.filters import OrderFilter
from orders.models import Order, OrderKind, OrderStatus
from orders.selectors import order_detail


@method_decorator(reads_from_replica, name="dispatch")
class OrderListView(KeysetListView):
    """The unified inquiry: newest first, paged by cursor, counted up to a bound (ADR 0025)."""

    model = Order
    url_name = "orders:order-list"
    detail_url_name = "orders:order-detail"
    title = _("Orders")
    filterset_class = OrderFilter
    selective_filters = ("q", "number", "customer")
    select_related = ("customer", "site", "device", "region")
    sortable = ("created_at", "total", "number")  # the orderings the keyset pages (and the API) allow
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
        for key in ("page", "cursor"):
            query.pop(key, None)
        context["exports"] = [
            {"label": label, "url": f"{reverse('orders:order-export')}?{query.urlencode()}&format={fmt}"}
            for fmt, label in (("csv", _("Export CSV")), ("xlsx", _("Export Excel")))
        ]
        from core.models import ExportJob

        # The user's recent large exports, so a job page left early is one click away.
        context["export_jobs"] = list(
            ExportJob.objects.using("default").filter(user=self.request.user, exporter="orders")[:5]
        )
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
# What each export row reads: plain values, no model instances (the names of the related rows
# come from the same query).
_EXPORT_VALUES = (
    "number",
    "kind",
    "status",
    "created_at",
    "paid_at",
    "region__name",
    "site__name",
    "device__name",
    "device__serial_number",
    "customer__name",
    "customer__phone",
    "subtotal",
    "discount_total",
    "total",
    "paid_amount",
    "refunded_amount",
)


def _export_queryset(user, params: dict):
    """The inquiry's rows for `user` with the list's filters `params` (a dict of lists, as a
    QueryDict gives); django ValidationError when the filters are wrong."""
    from django.core.exceptions import ValidationError
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, values in params.items():
        query.setlist(key, values if isinstance(values, list) else [values])
    request = type("ExportRequest", (), {"user": user, "GET": query})()
    queryset = Order.objects.restrict(user)
    filterset = OrderFilter(query or None, queryset=queryset, request=request)
    if filterset.is_bound:
        if not filterset.is_valid():
            raise ValidationError([f"{field}: {' '.join(errors)}" for field, errors in filterset.errors.items()])
        queryset = filterset.qs
    return queryset.order_by("-created_at", "-pk")


def _export_rows(queryset):
    """Rows of the export, streamed; the translated label of each kind and status is looked up
    once per value, not once per cell."""
    from django.utils import timezone

    from core.exports import EXPORT_CHUNK

    kinds = {value: str(label) for value, label in OrderKind.choices}
    statuses = {value: str(label) for value, label in OrderStatus.choices}
    localtime = timezone.localtime
    for (
        number,
        kind,
        status,
        created_at,
        paid_at,
        region,
        site,
        device,
        serial,
        customer,
        phone,
        subtotal,
        discount,
        total,
        paid,
        refunded,
    ) in queryset.values_list(*_EXPORT_VALUES).iterator(chunk_size=EXPORT_CHUNK):
        yield [
            number,
            kinds.get(kind, kind),
            statuses.get(status, status),
            localtime(created_at).isoformat(),
            localtime(paid_at).isoformat() if paid_at else "",
            region or "",
            site or "",
            f"{device} ({serial})" if device is not None else "",
            f"{customer} {phone}".strip() if customer is not None else "",
            subtotal,
            discount,
            total,
            paid,
            refunded,
        ]


ORDER_EXPORTER = exporter_register(
    Exporter(
        name="orders",
        permission="orders.view_order",
        headers=lambda: [label for _attr, label in EXPORT_COLUMNS],
        queryset=_export_queryset,
        rows=_export_rows,
        filename="orders",
        sheet="orders",
        back_url=lambda params: reverse("orders:order-list"),
    )
)


def _params(query) -> dict:
    return {key: query.getlist(key) for key in query if key not in ("format", "page", "cursor")}


@reads_from_replica
def order_export(request):
    """The order inquiry as CSV or Excel, with the same filters and the same scope as the page.
    Every row is exported: up to DIRECT_EXPORT_LIMIT rows in the answer itself, more through a
    background job whose page shows the progress and then the download link."""
    from django.core.exceptions import PermissionDenied, ValidationError
    from django.http import HttpResponseBadRequest
    from django.shortcuts import redirect
    from django.utils.translation import get_language

    from core.exports import DIRECT_EXPORT_LIMIT, FORMATS, export_job_create, table_response
    from core.pagination import bounded_count

    if not request.user.has_perm(ORDER_EXPORTER.permission):
        raise PermissionDenied
    fmt = request.GET.get("format", "csv")
    if fmt not in FORMATS:
        raise Http404
    params = _params(request.GET)
    try:
        queryset = _export_queryset(request.user, params)
    except ValidationError as exc:
        return HttpResponseBadRequest(" ".join(exc.messages), content_type="text/plain; charset=utf-8")
    if not bounded_count(queryset, limit=DIRECT_EXPORT_LIMIT).exact:
        job = export_job_create(user=request.user, exporter="orders", params=params, fmt=fmt, language=get_language())
        return redirect("core:export-job", pk=job.pk)
    headers = [str(label) for _attr, label in EXPORT_COLUMNS]
    return table_response(headers, _export_rows(queryset), fmt, filename="orders", sheet="orders")


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
