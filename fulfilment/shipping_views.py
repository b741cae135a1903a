"""Console pages and endpoints of shipping and returns (docs/adr/0034): the shipping list (select
orders, one PDF of labels), shipping a parcel, the carriers' tracking callback, returns (request,
receive by scan, inspect) and the returns report; and the customers' tracking and return endpoints."""

from __future__ import annotations

import datetime

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from core.api import router
from core.charts import chart, series
from core.console import ConsoleMixin, nav_register
from fulfilment import returns as returns_service
from fulfilment import shipping as shipping_service
from fulfilment.carriers import PushRefused, carrier_choices, carrier_get
from fulfilment.models import ItemCondition, ReturnItem, ReturnReason, ReturnRequest, Shipment, TrackingEvent
from inventory.models import StockLocation
from members.customer_api import CustomerViewMixin
from orders.models import Order, OrderKind, OrderStatus

MAX_PHOTO_BYTES = 5 * 1024 * 1024


def _messages(exc: ValidationError) -> list[str]:
    return [str(m) for m in exc.messages]


def _refused(request, messages: list[str], *, back: str = "", status: int = 400):
    return render(request, "fulfilment/shipping/refused.html", {"messages_list": messages, "back": back}, status=status)


# --- Shipping ----------------------------------------------------------------------------------
class ShippingListView(ConsoleMixin, View):
    permission_required = "fulfilment.view_shipment"

    def get(self, request):
        status_filter = request.GET.get("status") or OrderStatus.PACKED
        if status_filter not in (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED):
            status_filter = OrderStatus.PACKED
        orders = (
            Order.objects.restrict(request.user, "view")
            .filter(kind=OrderKind.DELIVERY, status=status_filter)
            .select_related("delivery", "shipment")
            .order_by("created_at", "pk")[:200]
        )
        return render(
            request,
            "fulfilment/shipping/list.html",
            {
                "orders": orders,
                "status_filter": status_filter,
                "statuses": [
                    (s, OrderStatus(s).label) for s in (OrderStatus.PACKED, OrderStatus.SHIPPED, OrderStatus.DELIVERED)
                ],
                "carriers": carrier_choices(),
            },
        )


def _orders_for(request, action: str) -> list[Order]:
    """The chosen orders, each inside the user's scope (an id outside it is a 404)."""
    ids = request.POST.getlist("order")
    try:
        ids = sorted({int(i) for i in ids})
    except ValueError:
        raise Http404 from None
    found = list(Order.objects.restrict(request.user, action).filter(pk__in=ids).select_related("delivery"))
    if len(found) != len(ids):
        raise Http404
    return found


class ShippingLabelsView(ConsoleMixin, View):
    permission_required = "fulfilment.add_shipment"

    def post(self, request):
        orders = _orders_for(request, "change")
        try:
            shipments = shipping_service.shipments_label(
                orders=orders, carrier=request.POST.get("carrier") or "simulated", actor=request.user
            )
        except ValidationError as exc:
            return _refused(request, _messages(exc), back=reverse("fulfilment:shipping-list"))
        pdf = shipping_service.labels_pdf(
            list(Shipment.objects.filter(pk__in=[s.pk for s in shipments]).select_related("order__delivery"))
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'inline; filename="labels-{stamp}.pdf"'
        return response


class ShipView(ConsoleMixin, View):
    permission_required = "fulfilment.change_shipment"

    def post(self, request, pk):
        order = get_object_or_404(Order.objects.restrict(request.user, "change"), pk=pk)
        try:
            shipping_service.shipment_ship(order=order, actor=request.user)
        except ValidationError as exc:
            return _refused(request, _messages(exc), back=reverse("orders:order-detail", args=[order.pk]))
        return redirect(
            request.POST.get("next") == "list"
            and reverse("fulfilment:shipping-list")
            or reverse("orders:order-detail", args=[order.pk])
        )


@method_decorator(csrf_exempt, name="dispatch")
class CarrierPushView(View):
    """The carriers' tracking callback: signed by the carrier, never a session."""

    def post(self, request, carrier):
        try:
            provider = carrier_get(carrier)
        except KeyError:
            return JsonResponse({"ok": False, "message": _("Unknown carrier.")}, status=404)
        try:
            events = shipping_service.tracking_push(carrier=carrier, request=request)
        except PushRefused as refused:
            response = provider.push_reply(ok=False, message=refused.message)
            response.status_code = refused.status
            return response
        response = provider.push_reply(ok=True, message="")
        response["X-Tracking-Events"] = str(len(events))
        return response


# --- Returns -----------------------------------------------------------------------------------
class ReturnListView(ConsoleMixin, View):
    permission_required = "fulfilment.view_returnrequest"

    def get(self, request):
        requests = (
            ReturnRequest.objects.restrict(request.user, "view").select_related("order", "refund").order_by("-pk")[:200]
        )
        return render(request, "fulfilment/shipping/return_list.html", {"requests": requests})


class ReturnCreateForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Reason"), choices=ReturnReason.choices)
    note = forms.CharField(label=gettext_lazy("Note"), max_length=255, required=False)


class ReturnCreateView(ConsoleMixin, View):
    permission_required = "fulfilment.add_returnrequest"

    def _order(self, request, pk):
        return get_object_or_404(
            Order.objects.restrict(request.user, "change").filter(kind=OrderKind.DELIVERY).prefetch_related("lines"),
            pk=pk,
        )

    def _render(self, request, order, form, errors=(), status=200):
        left = returns_service.shipped_quantities(order)
        lines = [(line, left.get(line.pk, 0)) for line in order.lines.all()]
        return render(
            request,
            "fulfilment/shipping/return_create.html",
            {"order": order, "form": form, "lines": lines, "errors": errors},
            status=status,
        )

    def get(self, request, pk):
        return self._render(request, self._order(request, pk), ReturnCreateForm())

    def post(self, request, pk):
        order = self._order(request, pk)
        form = ReturnCreateForm(request.POST)
        if not form.is_valid():
            return self._render(request, order, form, status=400)
        quantities = {}
        try:
            for line in order.lines.all():
                raw = (request.POST.get(f"line-{line.pk}") or "0").strip()
                quantities[line.pk] = int(raw)
        except ValueError:
            return self._render(request, order, form, [_("Give a whole quantity, zero or more.")], status=400)
        try:
            created = returns_service.return_request_create(
                order=order,
                quantities=quantities,
                reason=form.cleaned_data["reason"],
                note=form.cleaned_data["note"],
                source=ReturnRequest.Source.STAFF,
                actor=request.user,
            )
        except ValidationError as exc:
            return self._render(request, order, form, _messages(exc), status=400)
        return redirect("fulfilment:return-detail", pk=created.pk)


class ReturnScanForm(forms.Form):
    location = forms.ModelChoiceField(label=gettext_lazy("Warehouse"), queryset=StockLocation.objects.none())
    barcode = forms.CharField(label=gettext_lazy("Barcode"), max_length=64)
    scan_id = forms.CharField(max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args, user=None, site_id=None, **kwargs):
        super().__init__(*args, **kwargs)
        queryset = StockLocation.objects.restrict(user, "change").filter(
            kind=StockLocation.Kind.WAREHOUSE, is_active=True
        )
        self.fields["location"].queryset = queryset


class InspectForm(forms.Form):
    condition = forms.ChoiceField(label=gettext_lazy("Condition"), choices=ItemCondition.choices)
    notes = forms.CharField(label=gettext_lazy("Notes"), max_length=500, required=False)
    photo = forms.ImageField(label=gettext_lazy("Photo"), required=False)

    def clean_photo(self):
        photo = self.cleaned_data.get("photo")
        if photo and photo.size > MAX_PHOTO_BYTES:
            raise ValidationError(_("A photo may be at most 5 MB."))
        return photo


def _request_for(request, pk, action="view") -> ReturnRequest:
    return get_object_or_404(ReturnRequest.objects.restrict(request.user, action).select_related("order"), pk=pk)


class ReturnDetailView(ConsoleMixin, View):
    permission_required = "fulfilment.view_returnrequest"

    def get(self, request, pk, *, scan_form=None, errors=(), status=200):
        return_request = _request_for(request, pk)
        return render(
            request,
            "fulfilment/shipping/return_detail.html",
            {
                "ret": return_request,
                "items": return_request.items.select_related("line__product", "put_to__location"),
                "scan_form": scan_form or ReturnScanForm(user=request.user, initial={"scan_id": _new_scan_id()}),
                "inspect_form": InspectForm(),
                "errors": errors,
            },
            status=status,
        )


def _new_scan_id() -> str:
    import secrets

    return secrets.token_hex(8)


class ReturnScanView(ConsoleMixin, View):
    permission_required = "fulfilment.change_returnrequest"

    def post(self, request, pk):
        return_request = _request_for(request, pk, "change")
        form = ReturnScanForm(request.POST, user=request.user)
        if not form.is_valid():
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            return ReturnDetailView().get(request, pk, scan_form=form, errors=errors, status=400)
        try:
            returns_service.return_receive_scan(
                request=return_request,
                barcode=form.cleaned_data["barcode"],
                scan_id=form.cleaned_data["scan_id"],
                location=form.cleaned_data["location"],
                actor=request.user,
            )
        except ValidationError as exc:
            return ReturnDetailView().get(request, pk, scan_form=form, errors=_messages(exc), status=400)
        return redirect("fulfilment:return-detail", pk=return_request.pk)


class ReturnInspectView(ConsoleMixin, View):
    permission_required = "fulfilment.change_returnrequest"

    def post(self, request, pk):
        item = get_object_or_404(ReturnItem.objects.restrict(request.user, "change").select_related("request"), pk=pk)
        form = InspectForm(request.POST, request.FILES)
        if not form.is_valid():
            errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
            return ReturnDetailView().get(request, item.request_id, errors=errors, status=400)
        try:
            returns_service.return_inspect(
                item=item,
                condition=form.cleaned_data["condition"],
                notes=form.cleaned_data["notes"],
                photo=form.cleaned_data.get("photo"),
                actor=request.user,
            )
        except ValidationError as exc:
            return ReturnDetailView().get(request, item.request_id, errors=_messages(exc), status=400)
        return redirect("fulfilment:return-detail", pk=item.request_id)


class ReturnReportView(ConsoleMixin, View):
    permission_required = "fulfilment.view_returnrequest"

    def get(self, request):
        today = timezone.localdate()
        try:
            start = datetime.date.fromisoformat(request.GET.get("from") or "")
        except ValueError:
            start = today - datetime.timedelta(days=29)
        try:
            end = datetime.date.fromisoformat(request.GET.get("to") or "")
        except ValueError:
            end = today
        if end < start:
            start, end = end, start
        items = ReturnItem.objects.restrict(request.user, "view").filter(
            request__created_at__date__gte=start, request__created_at__date__lte=end
        )
        by_reason = [
            (ReturnReason(row["request__reason"]).label, row["n"], row["q"])
            for row in items.values("request__reason")
            .annotate(n=Count("request", distinct=True), q=Sum("quantity"))
            .order_by("-q")
        ]
        by_condition = [
            (ItemCondition(row["condition"]).label if row["condition"] else _("Not inspected"), row["q"])
            for row in items.values("condition").annotate(q=Sum("quantity")).order_by("-q")
        ]
        by_product = list(
            items.values("line__description").annotate(q=Sum("quantity")).order_by("-q", "line__description")[:20]
        )
        by_day = {
            row["day"]: row["q"]
            for row in items.annotate(day=TruncDate("request__created_at")).values("day").annotate(q=Sum("quantity"))
        }
        days = [start + datetime.timedelta(days=n) for n in range((end - start).days + 1)]
        day_chart = chart(
            "bar", [d.isoformat() for d in days], [series(_("Items returned"), [by_day.get(d, 0) for d in days])]
        )
        return render(
            request,
            "fulfilment/shipping/return_report.html",
            {
                "start": start,
                "end": end,
                "by_reason": by_reason,
                "by_condition": by_condition,
                "by_product": by_product,
                "chart": day_chart,
            },
        )


nav_register(
    section=gettext_lazy("Orders"),
    label=gettext_lazy("Shipping"),
    url_name="fulfilment:shipping-list",
    permission="fulfilment.view_shipment",
    order=40,
)
nav_register(
    section=gettext_lazy("Orders"),
    label=gettext_lazy("Returns"),
    url_name="fulfilment:return-list",
    permission="fulfilment.view_returnrequest",
    order=41,
)
nav_register(
    section=gettext_lazy("Orders"),
    label=gettext_lazy("Returns report"),
    url_name="fulfilment:return-report",
    permission="fulfilment.view_returnrequest",
    order=42,
)


# --- The customers' API ------------------------------------------------------------------------
class TrackingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrackingEvent
        fields = ["at", "status", "description", "location"]


class CustomerShipmentSerializer(serializers.ModelSerializer):
    order = serializers.CharField(source="order.number")
    events = TrackingEventSerializer(source="tracking_events", many=True)

    class Meta:
        model = Shipment
        fields = ["id", "order", "carrier", "waybill_number", "status", "shipped_at", "delivered_at", "events"]


class CustomerShipmentViewSet(CustomerViewMixin, viewsets.ReadOnlyModelViewSet):
    """The customer's parcels and where they are."""

    serializer_class = CustomerShipmentSerializer
    queryset = Shipment.objects.none()

    def customer_queryset(self):
        return (
            Shipment.objects.filter(order__customer=self.customer)
            .select_related("order")
            .prefetch_related("tracking_events")
            .order_by("-pk")
        )


class CustomerReturnItemSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)


class CustomerReturnSerializer(serializers.ModelSerializer):
    order = serializers.IntegerField(write_only=True)
    items = CustomerReturnItemSerializer(many=True, write_only=True)
    number = serializers.CharField(source="order.number", read_only=True)

    class Meta:
        model = ReturnRequest
        fields = ["id", "order", "number", "reason", "note", "status", "items", "created_at"]
        read_only_fields = ["id", "status", "created_at"]


class CustomerReturnViewSet(CustomerViewMixin, mixins.CreateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Ask for a return of the customer's own shipped order, with a reason."""

    serializer_class = CustomerReturnSerializer
    queryset = ReturnRequest.objects.none()

    def customer_queryset(self):
        return ReturnRequest.objects.filter(order__customer=self.customer).select_related("order").order_by("-pk")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = Order.objects.filter(pk=serializer.validated_data["order"], customer=self.customer).first()
        if order is None:
            return Response({"order": [_("No such order.")]}, status=status.HTTP_404_NOT_FOUND)
        quantities: dict[int, int] = {}
        for row in serializer.validated_data["items"]:
            quantities[row["line"]] = quantities.get(row["line"], 0) + row["quantity"]
        try:
            created = returns_service.return_request_create(
                order=order,
                quantities=quantities,
                reason=serializer.validated_data["reason"],
                note=serializer.validated_data.get("note", ""),
                source=ReturnRequest.Source.CUSTOMER,
                actor=self.customer,
            )
        except ValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
            return Response(detail, status=status.HTTP_400_BAD_REQUEST)
        return Response(self.get_serializer(created).data, status=status.HTTP_201_CREATED)


router.register("customer/shipments", CustomerShipmentViewSet, basename="customer-shipments")
router.register("customer/returns", CustomerReturnViewSet, basename="customer-returns")
