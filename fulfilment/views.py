"""Console pages of delivery orders: create, edit until allocated, import from platform files, the
queue of held orders (release or cancel), the platforms' column mappings (docs/adr/0032)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from catalog.imports import ImportFailed
from core.console import nav_register
from fulfilment.forms import DeliveryImportForm, DeliveryOrderForm, LineFormSet, MappingForm, RecipientForm
from fulfilment.imports import PRESETS, mapping_update, orders_import
from fulfilment.models import Delivery, PlatformMapping
from fulfilment.orders import (
    RECIPIENT_FIELDS,
    DeliveryLine,
    delivery_cancel,
    delivery_create,
    delivery_release,
    delivery_update,
)
from fulfilment.verification import hold_message
from orders.models import Channel, Order, OrderKind, OrderLine, OrderStatus


def _need(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _errors_to_form(form, error: ValidationError) -> None:
    for field, errors in (error.message_dict if hasattr(error, "error_dict") else {None: error.messages}).items():
        form.add_error(field if field in form.fields else None, errors)


def _lines(formset) -> list[DeliveryLine]:
    return [
        DeliveryLine(product=row["product"], quantity=row["quantity"], unit_price=row.get("unit_price"))
        for row in formset.cleaned_data
        if row and row.get("product")
    ]


def _order_to_change(request, pk) -> Order:
    return get_object_or_404(Order.objects.restrict(request.user, "change").filter(kind=OrderKind.DELIVERY), pk=pk)


def _held_message(request, order) -> None:
    holds = Delivery.objects.get(order=order).holds
    if holds:
        messages.warning(
            request,
            _("Order %(number)s is held for a person to check: %(holds)s")
            % {"number": order.number, "holds": " ".join(hold_message(hold) for hold in holds)},
        )
    else:
        messages.success(request, _("Order %(number)s is allocated.") % {"number": order.number})


@login_required
def delivery_new(request):
    _need(request, "fulfilment.add_delivery")
    form = DeliveryOrderForm(request.POST or None, user=request.user)
    lines = LineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and lines.is_valid():
        chosen = _lines(lines)
        if not chosen:
            form.add_error(None, _("Add at least one line."))
        else:
            data = form.cleaned_data
            try:
                order, _created = delivery_create(
                    actor=request.user,
                    region=data["region"],
                    customer=data["customer_phone"],
                    recipient={field: data.get(field, "") for field in RECIPIENT_FIELDS},
                    shipping_method=data["shipping_method"],
                    lines=chosen,
                    channel=Channel.CONSOLE,
                )
            except ValidationError as error:
                _errors_to_form(form, error)
            else:
                _held_message(request, order)
                return redirect("orders:order-detail", pk=order.pk)
    return render(
        request, "fulfilment/delivery_form.html", {"form": form, "lines": lines, "title": _("New delivery order")}
    )


@login_required
def delivery_edit(request, pk):
    _need(request, "fulfilment.change_delivery")
    order = _order_to_change(request, pk)
    delivery = get_object_or_404(Delivery, order=order)
    if order.status != OrderStatus.NEW:
        messages.error(
            request,
            _("Order %(number)s is %(status)s: its lines and address can no longer change. Cancel it to start again.")
            % {"number": order.number, "status": order.get_status_display()},
        )
        return redirect("orders:order-detail", pk=order.pk)
    current = list(OrderLine.objects.filter(order=order).order_by("pk"))
    initial = {field: getattr(delivery, field) for field in (*RECIPIENT_FIELDS, "shipping_method")}
    form = RecipientForm(request.POST or None, initial=initial)
    lines = LineFormSet(request.POST or None, prefix="lines")
    quantity_errors = {}
    quantities = {}
    if request.method == "POST":
        for line in current:
            raw = request.POST.get(f"qty-{line.pk}", str(line.quantity)).strip()
            if not raw.isdigit() or int(raw) > 100000:
                quantity_errors[line.pk] = _("A whole number from 0 to 100000.")
            else:
                quantities[line.pk] = int(raw)
    if request.method == "POST" and form.is_valid() and lines.is_valid() and not quantity_errors:
        data = form.cleaned_data
        try:
            delivery_update(
                order=order,
                actor=request.user,
                recipient={field: data.get(field, "") for field in RECIPIENT_FIELDS},
                shipping_method=data["shipping_method"],
                quantities=quantities,
                new_lines=_lines(lines),
            )
        except ValidationError as error:
            _errors_to_form(form, error)
        else:
            _held_message(request, order)
            return redirect("orders:order-detail", pk=order.pk)
    rows = [
        {
            "line": line,
            "value": request.POST.get(f"qty-{line.pk}", line.quantity),
            "error": quantity_errors.get(line.pk),
        }
        for line in current
    ]
    return render(
        request,
        "fulfilment/delivery_edit.html",
        {
            "form": form,
            "lines": lines,
            "rows": rows,
            "order": order,
            "title": _("Edit order %(number)s") % {"number": order.number},
        },
    )


@login_required
def held_list(request):
    """Orders that failed a check, oldest first, with what failed; release or cancel each."""
    _need(request, "fulfilment.view_delivery")
    held = (
        Delivery.objects.restrict(request.user, "view")
        .filter(order__kind=OrderKind.DELIVERY, order__status=OrderStatus.NEW, verified_at__isnull=False)
        .select_related("order")
        .order_by("order__created_at", "pk")
    )
    return render(request, "fulfilment/held_list.html", {"held": held[:200], "title": _("Held delivery orders")})


@login_required
@require_POST
def delivery_release_view(request, pk):
    _need(request, "fulfilment.change_delivery")
    order = _order_to_change(request, pk)
    try:
        delivery_release(order=order, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Order %(number)s is released and allocated.") % {"number": order.number})
    if request.POST.get("next") == "order":
        return redirect("orders:order-detail", pk=order.pk)
    return redirect("fulfilment:held-list")


@login_required
@require_POST
def delivery_cancel_view(request, pk):
    _need(request, "fulfilment.change_delivery")
    order = _order_to_change(request, pk)
    try:
        delivery_cancel(order=order, actor=request.user, reason=request.POST.get("reason", ""))
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request, _("Order %(number)s is cancelled; its stock is free again.") % {"number": order.number}
        )
    if request.POST.get("next") == "order":
        return redirect("orders:order-detail", pk=order.pk)
    return redirect("fulfilment:held-list")


@login_required
def delivery_import(request):
    _need(request, "fulfilment.add_delivery")
    form = DeliveryImportForm(request.POST or None, request.FILES or None, user=request.user)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = orders_import(
                actor=request.user,
                mapping=form.cleaned_data["mapping"],
                region=form.cleaned_data["region"],
                filename=upload.name,
                content=upload.read(),
            )
        except ImportFailed as exc:
            errors = exc.errors
            messages.error(request, _("Nothing was imported: %(n)s problem(s) found.") % {"n": len(errors)})
        else:
            messages.success(
                request,
                _(
                    "%(orders)s orders in the file: %(created)s new (%(held)s held for checking), %(skipped)s imported before."
                )
                % result,
            )
            return redirect("fulfilment:held-list" if result["held"] else "orders:order-list")
    return render(
        request,
        "fulfilment/import.html",
        {
            "form": form,
            "errors": errors,
            "mappings": PlatformMapping.objects.all(),
            "title": _("Import delivery orders"),
        },
    )


@login_required
def mapping_list(request):
    _need(request, "fulfilment.view_platformmapping")
    return render(
        request,
        "fulfilment/mapping_list.html",
        {
            "mappings": PlatformMapping.objects.all(),
            "fields": PlatformMapping.FIELDS,
            "presets": PRESETS,
            "title": _("Platform file layouts"),
        },
    )


@login_required
def mapping_edit(request, pk):
    _need(request, "fulfilment.change_platformmapping")
    mapping = get_object_or_404(PlatformMapping, pk=pk)
    form = MappingForm(request.POST or None, mapping=mapping)
    if request.method == "POST" and form.is_valid():
        mapping_update(actor=request.user, mapping=mapping, name=form.cleaned_data["name"], columns=form.columns())
        messages.success(request, _("The layout of %(name)s is saved.") % {"name": mapping.name})
        return redirect("fulfilment:mapping-list")
    return render(
        request, "staff/form.html", {"form": form, "title": _("Columns of %(name)s") % {"name": mapping.name}}
    )


_ORDERS = gettext_lazy("Orders")
nav_register(
    section=_ORDERS,
    label=gettext_lazy("New delivery order"),
    url_name="fulfilment:delivery-new",
    permission="fulfilment.add_delivery",
    order=14,
)
nav_register(
    section=_ORDERS,
    label=gettext_lazy("Import delivery orders"),
    url_name="fulfilment:import",
    permission="fulfilment.add_delivery",
    order=15,
)
nav_register(
    section=_ORDERS,
    label=gettext_lazy("Held delivery orders"),
    url_name="fulfilment:held-list",
    permission="fulfilment.view_delivery",
    order=16,
)
nav_register(
    section=_ORDERS,
    label=gettext_lazy("Platform file layouts"),
    url_name="fulfilment:mapping-list",
    permission="fulfilment.view_platformmapping",
    order=17,
)
