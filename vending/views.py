"""Console pages of vending: the slots of every machine (the planogram) with their stock,
low-stock slots, restock tasks with the prekit list and the phone-sized confirmation page, and
the supplier's dashboard."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.forms import date_input
from core.models import Site
from devices.models import Device
from inventory.models import StockLocation
from vending import restock
from vending.models import RestockTask, Slot


class SlotListView(ScopedListView):
    model = Slot
    url_name = "vending:slot-list"
    actions = [(_("Import a planogram"), "vending:planogram-import", "vending.change_slot")]
    title = _("Slots and stock")
    select_related = ("device", "product", "level")
    paginate_by = 100
    columns = [
        ("device", _("Machine")),
        ("code", _("Slot")),
        ("product", _("Product")),
        ("sale_price", _("Price")),
        ("level__quantity", _("In stock")),
        ("level__capacity", _("Capacity")),
        ("level__par_level", _("Par level")),
    ]
    sortable = ("device", "level__quantity")  # by machine (the default), or the emptiest first


class RestockTaskListView(ScopedListView):
    model = RestockTask
    url_name = "vending:restock-list"
    detail_url_name = "vending:restock-detail"
    title = _("Restock tasks")
    select_related = ("device", "source", "done_by")
    columns = [
        ("device", _("Machine")),
        ("status", _("Status")),
        ("route", _("Route")),
        ("source", _("Taken from")),
        ("created_at", _("Created")),
        ("done_at", _("Done")),
        ("done_by", _("Done by")),
    ]
    actions = [
        (_("Replenishment plan"), "vending:replenishment", "vending.view_restocktask"),
        (_("Plan restocking"), "vending:restock-plan", "vending.add_restocktask"),
        (_("Load the vehicle"), "vending:restock-load", "vending.change_restocktask"),
    ]


class PlanForm(forms.Form):
    devices = forms.ModelMultipleChoiceField(
        queryset=Device.objects.none(), label=_("Machines"), widget=forms.CheckboxSelectMultiple
    )
    source = forms.ModelChoiceField(queryset=StockLocation.objects.none(), label=_("Taken from"), required=False)
    route = forms.CharField(label=_("Route"), max_length=40, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["devices"].queryset = Device.objects.restrict(user, "view").filter(slots__isnull=False).distinct()
        self.fields["source"].queryset = StockLocation.objects.restrict(user, "view").filter(
            kind__in=[StockLocation.Kind.VEHICLE, StockLocation.Kind.WAREHOUSE]
        )


def restock_plan(request):
    """Choose the machines of a route: one task each, and the prekit list to load the vehicle."""
    if not request.user.has_perm("vending.add_restocktask"):
        raise PermissionDenied
    # The machines the replenishment plan says are due today come ticked (a slot runs empty before
    # the next visit, or its cash is full); without sales history that is "the low ones", as before.
    due = []
    if request.method == "GET":
        from django.utils import timezone

        from vending.replenishment import machines_outlook, visit_days

        candidates = Device.objects.restrict(request.user, "view").filter(slots__isnull=False).distinct()
        outlook = machines_outlook(devices=candidates, day=timezone.localdate(), interval=visit_days())
        due = [machine.device.pk for machine in outlook if machine.due]
    form = PlanForm(request.POST or None, user=request.user, initial={"devices": due})
    tasks, skipped = [], []
    if request.method == "POST" and form.is_valid():
        for device in form.cleaned_data["devices"]:
            try:
                tasks.append(
                    restock.restock_task_create(
                        device=device,
                        actor=request.user,
                        source=form.cleaned_data["source"],
                        route=form.cleaned_data["route"],
                    )
                )
            except ValidationError as error:
                skipped.append(" ".join(error.messages))
        if tasks:
            messages.success(request, gettext("%(n)d restock tasks created.") % {"n": len(tasks)})
    return render(
        request,
        "vending/restock_plan.html",
        {"form": form, "tasks": tasks, "skipped": skipped, "prekit": restock.prekit(tasks) if tasks else []},
    )


class LoadForm(forms.Form):
    vehicle = forms.ModelChoiceField(queryset=StockLocation.objects.none(), label=_("Vehicle"))
    warehouse = forms.ModelChoiceField(queryset=StockLocation.objects.none(), label=_("Warehouse"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        locations = StockLocation.objects.restrict(user, "view").filter(is_active=True).select_related("site")
        self.fields["vehicle"].queryset = locations.filter(kind=StockLocation.Kind.VEHICLE)
        self.fields["warehouse"].queryset = locations.filter(kind=StockLocation.Kind.WAREHOUSE)


def restock_load(request):
    """Load a service vehicle at a warehouse for its open restock tasks: the prekit of the tasks
    taking goods from the vehicle, less what it carries, against what the warehouse has; the load
    is written as transfers warehouse → vehicle, and each machine's confirmation moves the goods on
    from the vehicle into the slots."""
    if not request.user.has_perm("vending.view_restocktask"):
        raise PermissionDenied
    data = request.POST if request.method == "POST" else request.GET
    chosen = bool(data.get("vehicle") and data.get("warehouse")) or request.method == "POST"
    form = LoadForm(data if chosen else None, user=request.user, initial={"vehicle": data.get("vehicle")})
    vehicle = warehouse = None
    if chosen and form.is_valid():
        vehicle, warehouse = form.cleaned_data["vehicle"], form.cleaned_data["warehouse"]
    if request.method == "POST":
        if not request.user.has_perm("vending.change_restocktask"):
            raise PermissionDenied
        if vehicle is None:
            messages.error(request, gettext("Nothing was loaded: choose a vehicle and a warehouse."))
            return redirect(request.path)
        else:
            quantities = {}
            try:
                for row in restock.vehicle_needs(vehicle=vehicle, warehouse=warehouse):
                    raw = request.POST.get(f"product-{row['product'].pk}", "").strip() or "0"
                    if not raw.isdigit():
                        raise ValidationError(gettext("Enter whole numbers, 0 or more."))
                    quantities[row["product"].pk] = int(raw)
                loaded = restock.vehicle_load(
                    vehicle=vehicle, warehouse=warehouse, quantities=quantities, actor=request.user
                )
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    gettext("%(n)d items loaded into %(vehicle)s from %(warehouse)s.")
                    % {"n": loaded, "vehicle": vehicle, "warehouse": warehouse},
                )
            return redirect(f"{request.path}?vehicle={vehicle.pk}&warehouse={warehouse.pk}")
    rows = restock.vehicle_needs(vehicle=vehicle, warehouse=warehouse) if vehicle else []
    return render(
        request,
        "vending/restock_load.html",
        {"form": form, "vehicle": vehicle, "warehouse": warehouse, "rows": rows},
    )


class RestockTaskDetailView(ScopedDetailView):
    """The phone-sized page a service worker fills in at the machine."""

    model = RestockTask
    template_name = "vending/restock_detail.html"
    select_related = ("device", "source")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        lines = list(self.object.lines.select_related("slot__level", "product"))
        for line in lines:  # offered: what was planned, as far as it fits now (planned for a later stock)
            level = line.slot.level
            room = None if level.capacity is None else max(0, level.capacity - level.quantity)
            line.offer = line.planned if room is None else min(line.planned, room)
        context["lines"] = lines
        return context

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("vending.change_restocktask"):
            raise PermissionDenied
        self.object = self.get_object()
        quantities = {}
        try:
            for line in self.object.lines.all():
                raw = request.POST.get(f"line-{line.pk}", "").strip() or "0"
                if not raw.isdigit():
                    raise ValidationError(gettext("Enter whole numbers, 0 or more."))
                quantities[line.pk] = int(raw)
            restock.restock_confirm(task=self.object, quantities=quantities, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, gettext("Restock confirmed; the stock is updated."))
        return redirect("vending:restock-detail", pk=self.object.pk)


class RouteForm(forms.Form):
    warehouse = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Warehouse"))
    day = forms.DateField(label=_("Day"), widget=date_input())
    vehicles = forms.IntegerField(label=_("Vehicles"), min_value=1, max_value=50, initial=1, required=False)
    capacity = forms.IntegerField(
        label=_("Items per vehicle"), min_value=1, max_value=100000, initial=400, required=False
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["warehouse"].queryset = restock.route_depots(user)


def restock_route(request):
    """A day's restock route from a warehouse: the stops in order on the map and as a list for the
    driver, each linking to its confirmation page; the plan button (re)solves it."""
    from django.utils import timezone

    if not request.user.has_perm("vending.view_restocktask"):
        raise PermissionDenied
    depots = restock.route_depots(request.user)
    data = request.POST if request.method == "POST" else request.GET
    initial = {"day": timezone.localdate(), "warehouse": depots.first(), "vehicles": 1, "capacity": 400}
    form = RouteForm(data or None, user=request.user, initial=initial)
    warehouse, day = initial["warehouse"], initial["day"]
    if data and form.is_valid():
        warehouse, day = form.cleaned_data["warehouse"], form.cleaned_data["day"]
    elif data:
        warehouse = None
    if request.method == "POST":
        if not request.user.has_perm("vending.change_restocktask"):
            raise PermissionDenied
        if form.is_valid() and warehouse is not None:
            try:
                plan = restock.route_plan(
                    user=request.user,
                    warehouse=warehouse,
                    day=day,
                    vehicles=form.cleaned_data["vehicles"] or 1,
                    capacity=form.cleaned_data["capacity"] or 400,
                )
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    gettext("Route planned: %(stops)d stops, %(km).1f km.")
                    % {"stops": len(plan.visits), "km": plan.distance_km},
                )
                if plan.estimated:
                    messages.warning(
                        request,
                        gettext(
                            "The distance service did not answer; travel times are estimated from straight-line distances."
                        ),
                    )
                if plan.unroutable or plan.unfit:
                    messages.warning(
                        request,
                        gettext("%(n)d visits are not on the route; the list says why.")
                        % {"n": len(plan.unroutable) + len(plan.unfit)},
                    )
            return redirect(
                f"{request.path}?warehouse={warehouse.pk}&day={day:%Y-%m-%d}"
                f"&vehicles={form.cleaned_data['vehicles'] or 1}&capacity={form.cleaned_data['capacity'] or 400}"
            )
        messages.error(request, gettext("Nothing was planned: correct the form."))
    tasks = list(restock.route_tasks(request.user, warehouse=warehouse, day=day)) if warehouse else []
    stops = [t for t in tasks if t.route_date == day and t.route_stop is not None]
    left_out = [t for t in tasks if t not in stops]
    points = {
        "depot": None
        if warehouse is None or warehouse.latitude is None
        else {"name": warehouse.name, "lat": float(warehouse.latitude), "lon": float(warehouse.longitude)},
        "stops": [
            {
                "name": t.device.name,
                "place": t.device.site_id,  # machines of one venue share a marker on the map
                "site": t.device.site.name if t.device.site_id else "",
                "vehicle": t.route_vehicle,
                "stop": t.route_stop,
                "done": t.status == RestockTask.Status.DONE,
                "lat": point[0],
                "lon": point[1],
            }
            for t in stops
            if (point := restock.machine_point(t.device)) is not None
        ],
    }
    return render(
        request,
        "vending/restock_route.html",
        {
            "form": form,
            "warehouse": warehouse,
            "day": day,
            "stops": stops,
            "left_out": left_out,
            "points": points,
        },
    )


class ReplenishmentForm(RouteForm):
    interval = forms.IntegerField(
        label=_("Days until the next visit"),
        min_value=1,
        max_value=28,
        required=False,
        help_text=_("A slot that would run empty within these days after the visit day is refilled now."),
    )

    field_order = ["warehouse", "day", "interval", "vehicles", "capacity"]


def replenishment(request):
    """The replenishment plan for a warehouse and a day: the machines to visit and why, the prekit
    per machine with each slot's days until empty and suggested par, the vehicle's pick list; the
    plan button creates the tasks and routes them (then the route page takes over)."""
    from django.utils import timezone

    from vending.replenishment import replenishment_apply, replenishment_plan, visit_days

    if not request.user.has_perm("vending.view_restocktask"):
        raise PermissionDenied
    depots = restock.route_depots(request.user)
    data = request.POST if request.method == "POST" else request.GET
    initial = {
        "day": timezone.localdate(),
        "warehouse": depots.first(),
        "interval": visit_days(),
        "vehicles": 1,
        "capacity": 400,
    }
    form = ReplenishmentForm(data or None, user=request.user, initial=initial)
    warehouse, day, interval = initial["warehouse"], initial["day"], initial["interval"]
    if data and form.is_valid():
        warehouse, day = form.cleaned_data["warehouse"], form.cleaned_data["day"]
        interval = form.cleaned_data["interval"] or visit_days()
    elif data:
        warehouse = None
    if request.method == "POST":
        if not request.user.has_perm("vending.add_restocktask") or not request.user.has_perm(
            "vending.change_restocktask"
        ):
            raise PermissionDenied
        if warehouse is None:
            messages.error(request, gettext("Nothing was planned: correct the form."))
        else:
            vehicles, capacity = form.cleaned_data["vehicles"] or 1, form.cleaned_data["capacity"] or 400
            try:
                _plan, created, routed = replenishment_apply(
                    user=request.user,
                    warehouse=warehouse,
                    day=day,
                    interval=interval,
                    vehicles=vehicles,
                    capacity=capacity,
                )
            except ValidationError as error:
                for message in error.messages:
                    messages.error(request, message)
            else:
                messages.success(
                    request,
                    ngettext(
                        "%(tasks)d restock task created; route planned: %(stops)d stops, %(km).1f km.",
                        "%(tasks)d restock tasks created; route planned: %(stops)d stops, %(km).1f km.",
                        len(created),
                    )
                    % {"tasks": len(created), "stops": len(routed.visits), "km": routed.distance_km},
                )
                if routed.unroutable or routed.unfit:
                    messages.warning(
                        request,
                        gettext("%(n)d visits are not on the route; the list says why.")
                        % {"n": len(routed.unroutable) + len(routed.unfit)},
                    )
                return redirect(
                    f"{reverse('vending:restock-route')}?warehouse={warehouse.pk}&day={day:%Y-%m-%d}"
                    f"&vehicles={vehicles}&capacity={capacity}"
                )
            return redirect(f"{request.path}?warehouse={warehouse.pk}&day={day:%Y-%m-%d}&interval={interval}")
    plan = None
    if warehouse is not None:
        try:
            plan = replenishment_plan(user=request.user, warehouse=warehouse, day=day, interval=interval)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    return render(request, "vending/replenishment.html", {"form": form, "plan": plan})


def dex_reconcile(request, pk):
    """One DEX read against the platform's sales since the previous read, per selection."""
    from gateway.models import DexRead
    from vending.reconcile import difference_accept, period_of, reconcile

    if not request.user.has_perm("gateway.view_dexread"):
        raise PermissionDenied
    read = get_object_or_404(DexRead.objects.restrict(request.user).select_related("device"), pk=pk)
    if request.method == "POST":
        if not request.user.has_perm("inventory.change_stocklevel"):
            raise PermissionDenied
        try:
            difference_accept(
                read=read,
                selection=request.POST.get("selection", ""),
                actor=request.user,
                reason=request.POST.get("reason", ""),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, gettext("The difference was written as a stock adjustment."))
        return redirect("vending:dex-reconcile", pk=read.pk)
    start, end = period_of(read)
    return render(
        request, "vending/dex_reconcile.html", {"read": read, "lines": reconcile(read), "start": start, "end": end}
    )


def planogram(request, pk):
    """A machine's slots, each editable in place, and a new slot."""
    from decimal import Decimal, InvalidOperation

    from catalog.models import Product
    from vending.planogram import slot_update
    from vending.services import slot_create

    if not request.user.has_perm("vending.view_slot"):
        raise PermissionDenied
    machine = get_object_or_404(Device.objects.restrict(request.user).filter(kind=Device.Kind.VENDING), pk=pk)
    if request.method == "POST":
        if not request.user.has_perm("vending.change_slot"):
            raise PermissionDenied
        get_object_or_404(Device.objects.restrict(request.user, "change"), pk=pk)
        data = request.POST

        def number(name, cast=int):
            raw = (data.get(name) or "").strip()
            if not raw:
                return None
            try:
                return cast(raw)
            except (ValueError, InvalidOperation):
                raise ValidationError({name: gettext("Enter a number.")}) from None

        try:
            product = Product.objects.filter(sku=(data.get("product") or "").strip()).first()
            if data.get("slot_id"):
                slot = get_object_or_404(Slot.objects.filter(device=machine), pk=data["slot_id"])
                if data.get("product") and product is None:
                    raise ValidationError({"product": gettext("No product with this SKU.")})
                slot_update(
                    slot=slot,
                    actor=request.user,
                    product=product,
                    price=number("price", Decimal),
                    capacity=number("capacity"),
                    par_level=number("par_level"),
                    low_threshold=number("low_threshold"),
                    is_active=bool(data.get("is_active")),
                )
            else:
                if product is None:
                    raise ValidationError({"product": gettext("No product with this SKU.")})
                slot_create(
                    device=machine,
                    code=data.get("code", ""),
                    product=product,
                    capacity=number("capacity") or 0,
                    par_level=number("par_level"),
                    low_threshold=number("low_threshold"),  # blank: the region's default
                    price=number("price", Decimal),
                    actor=request.user,
                )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, gettext("Saved."))
        return redirect("vending:planogram", pk=machine.pk)
    slots = Slot.objects.filter(device=machine).select_related("product", "level").order_by("code")
    return render(request, "vending/planogram.html", {"machine": machine, "slots": slots})


def planogram_import_view(request):
    from catalog.forms import ProductImportForm
    from catalog.imports import ImportFailed
    from vending.planogram import COLUMNS, MACHINE_COLUMNS, machines_import, planogram_import

    if not request.user.has_perm("vending.change_slot"):
        raise PermissionDenied
    form = ProductImportForm(request.POST or None, request.FILES or None)
    errors = []
    what = request.POST.get("what") or request.GET.get("what") or "planogram"
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if what == "machines":
                if not request.user.has_perm("devices.add_device"):
                    raise PermissionDenied
                result = machines_import(actor=request.user, filename=upload.name, content=upload.read())
                messages.success(
                    request, gettext("Imported %(rows)s rows: %(created)s new machines, %(updated)s updated.") % result
                )
                return redirect("devices:device-list")
            result = planogram_import(actor=request.user, filename=upload.name, content=upload.read())
        except ImportFailed as failure:
            errors = failure.errors
            messages.error(request, gettext("Nothing was imported: %(n)s problem(s) found.") % {"n": len(errors)})
        else:
            messages.success(
                request, gettext("Imported %(rows)s rows: %(created)s new slots, %(updated)s updated.") % result
            )
            return redirect("vending:slot-list")
    return render(
        request,
        "vending/planogram_import.html",
        {"form": form, "errors": errors, "columns": COLUMNS, "machine_columns": MACHINE_COLUMNS, "what": what},
    )


def low_stock(request):
    if not request.user.has_perm("vending.view_slot"):
        raise PermissionDenied
    return render(request, "vending/low_stock.html", {"slots": restock.low_slots(request.user)})


def supplier_dashboard(request):
    """A supplier's own products: stock in every machine, slots running low, recent sales."""
    from catalog.models import Product, supplier_of
    from orders.models import OrderKind, OrderLine, OrderStatus

    if not request.user.has_perm("catalog.view_product"):
        raise PermissionDenied
    supplier_ids = supplier_of(request.user)
    if supplier_ids is None:  # staff: the products' stock in the machines of their scope
        products = Product.objects.restrict(request.user)
        slots = Slot.objects.restrict(request.user)
        lines = OrderLine.objects.restrict(request.user)
    else:
        products = Product.objects.filter(supplier__in=supplier_ids)
        slots = Slot.objects.filter(product__supplier__in=supplier_ids)
        lines = OrderLine.objects.filter(product__supplier__in=supplier_ids)
    from django.db.models import Count, Q, Sum

    # Counted over the slots the viewer may see, never over the whole catalog's machines.
    per_product = {
        row["product"]: row
        for row in slots.values("product").annotate(
            in_machines=Sum("level__quantity"),
            slot_count=Count("pk"),
            low=Count("pk", filter=restock.LOW & Q(is_active=True)),
        )
    }
    stock = []
    for product in products.filter(pk__in=per_product.keys()).order_by("name"):
        row = per_product[product.pk]
        product.in_machines, product.slot_count, product.low = row["in_machines"], row["slot_count"], row["low"]
        stock.append(product)
    # The machines' sales of these products: what was sold where and when (no customer data).
    sold = [OrderStatus.PAID, OrderStatus.FULFILLING, OrderStatus.COMPLETED]
    sales = (
        lines.filter(order__kind=OrderKind.VENDING, order__status__in=sold, product__isnull=False)
        .select_related("product", "order__device", "order__site")
        .order_by("-order__created_at", "-pk")[:50]
    )
    return render(
        request,
        "vending/supplier_dashboard.html",
        {
            "stock": stock,
            "low": slots.filter(restock.LOW, is_active=True)
            .select_related("device", "product", "level")
            .order_by("device__name", "code")[:100],
            "sales": sales,
        },
    )


nav_register(
    section=_("Fleet"), label=_("Low stock"), url_name="vending:low-stock", permission="vending.view_slot", order=25
)
nav_register(
    section=_("Fleet"),
    label=_("Restock tasks"),
    url_name="vending:restock-list",
    permission="vending.view_restocktask",
    order=26,
)
nav_register(
    section=_("Fleet"),
    label=_("Restock route"),
    url_name="vending:restock-route",
    permission="vending.view_restocktask",
    order=27,
)
nav_register(
    section=_("Fleet"),
    label=_("Replenishment plan"),
    url_name="vending:replenishment",
    permission="vending.view_restocktask",
    order=28,
)
nav_register(
    section=_("Catalog"),
    label=_("Supplier dashboard"),
    url_name="vending:supplier-dashboard",
    permission="catalog.view_product",
    order=31,
)
nav_register(
    section=_("Fleet"),
    label=_("Slots and stock"),
    url_name="vending:slot-list",
    permission="vending.view_slot",
    order=24,
)
