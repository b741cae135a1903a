"""Staff pages: login and password, clerks and their switches, the cashier console, shifts,
refund approvals, live monitoring, anomaly rules and alerts, clerk activity and performance."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.db.models import Avg, Count, Q
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext, pgettext_lazy
from django.views.decorators.http import require_POST

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.constraints import constraint_error
from core.labels import labels_of
from core.models import AuditEntry
from members.promotions import discount_lines
from orders.models import Order, OrderEvent, Payment, Refund
from staff import counter, policies
from staff.forms import (
    AnomalyRuleForm,
    ClerkCreateForm,
    CollectForm,
    CustomerRatingForm,
    DecisionForm,
    EnrolForm,
    EvaluationForm,
    GrantForm,
    PeerRatingForm,
    PeriodForm,
    PointsAdjustForm,
    ProfileSwitchesForm,
    RefundRequestForm,
    ReturnForm,
    RewardPenaltyForm,
    SaleForm,
    ShiftCloseForm,
    ShiftOpenForm,
    StoreHoursForm,
    TillForm,
    TrainingForm,
    VoidForm,
)
from staff.models import AnomalyRule, OfflineSale, RefundApproval, Shift, StaffAlert, StaffProfile
from staff.services import (
    PROFILE_FIELDS,
    clerk_create,
    grantee_may_be_managed,
    staff_grant_add,
    staff_grant_remove,
    staff_grants_of,
    staff_password_reset,
    staff_profile_update,
    staff_set_active,
    user_password_changed,
)


class LoginView(auth_views.LoginView):
    template_name = "staff/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "staff/password_change.html"
    success_url = reverse_lazy("core:dashboard")

    def form_valid(self, form):
        response = super().form_valid(form)
        user_password_changed(user=self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        return response


def _need(request, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _form_errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            for item in errors:
                form.add_error(field if field in form.fields else None, item)
    else:
        for message in error.messages:
            form.add_error(None, message)


# --- Clerks ----------------------------------------------------------------------------------
class ClerkListView(ScopedListView):
    model = StaffProfile
    url_name = "staff:clerk-list"
    detail_url_name = "staff:clerk-detail"
    title = gettext_lazy("Clerks")
    select_related = ("user",)
    columns = [
        ("user__username", gettext_lazy("Login")),
        ("user__first_name", gettext_lazy("First name")),
        ("user__last_name", gettext_lazy("Last name")),
        ("user__is_active", gettext_lazy("Active")),
        ("can_collect", gettext_lazy("Collect")),
        ("can_refund", gettext_lazy("Refund")),
        ("refund_limit", gettext_lazy("Per refund")),
        ("refund_daily_limit", gettext_lazy("Per day")),
    ]
    actions = [(gettext_lazy("Add a clerk"), "staff:clerk-create", "staff.add_staffprofile")]


def clerk_create_view(request):
    _need(request, "staff.add_staffprofile")
    form = ClerkCreateForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user = clerk_create(
                actor=request.user,
                name=data["name"],
                phone=data["phone"],
                role=data["role"],
                sites=data["sites"],
                gender=data["gender"] or "",
                email=data["email"] or "",
                photo=data.get("photo") or None,
                send_by=data["send_by"],
                **{field: data[field] for field in PROFILE_FIELDS},
            )
        except IntegrityError as error:  # a constraint the form could not check (a race)
            _form_errors(form, constraint_error(error))
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request,
                _("%(name)s was added; the initial password was sent to them.") % {"name": user.get_full_name()},
            )
            return redirect("staff:clerk-detail", pk=user.profile.pk)
    return render(request, "staff/form.html", {"form": form, "title": _("Add a clerk"), "multipart": True})


class ClerkDetailView(ScopedDetailView):
    model = StaffProfile
    template_name = "staff/clerk_detail.html"
    select_related = ("user",)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = kwargs.get("form") or ProfileSwitchesForm(instance=self.object, user=self.request.user)
        # One's own switches and limits are set by whoever manages you, never by yourself.
        context["can_change"] = (
            self.request.user.has_perm("staff.change_staffprofile") and self.object.user_id != self.request.user.pk
        )
        context["roles"] = self.object.user.role_labels
        context["may_grant"] = self.request.user.has_perm("staff.manage_grants") and grantee_may_be_managed(
            self.request.user, self.object.user
        )
        context.update(self._development(kwargs))
        return context

    def _development(self, kwargs) -> dict:
        """Training, evaluations, ratings, rewards and penalties (seed 004), as far as the viewer's
        scope reaches; forms for those who manage the clerk."""
        from members.models import Feedback
        from staff.appraisals import appraisal_summary

        profile, viewer = self.object, self.request.user
        evaluations = list(
            profile.evaluations.select_related("evaluated_by").annotate(
                peer_avg=Avg("peer_ratings__score"), peers=Count("peer_ratings")
            )
        )
        ratings = Feedback.objects.restrict(viewer).filter(clerk=profile.user)
        return {
            "trainings": profile.trainings.select_related("recorded_by"),
            "evaluations": evaluations,
            "rewards_penalties": profile.rewards_penalties.select_related("recorded_by"),
            "customer_ratings": ratings.order_by("-created_at")[:20],
            "customer_rating": ratings.aggregate(avg=Avg("rating"), n=Count("pk")),
            "summary": appraisal_summary([profile.user_id])[profile.user_id],
            "training_form": kwargs.get("training_form") or TrainingForm(prefix="training"),
            "evaluation_form": kwargs.get("evaluation_form") or EvaluationForm(prefix="evaluation"),
            "reward_penalty_form": kwargs.get("reward_penalty_form") or RewardPenaltyForm(prefix="reward"),
        }

    def _record(self, request, profile, action):
        """Record a training, an evaluation, a reward or a penalty; re-render with errors if wrong."""
        from staff import appraisals

        form_class, prefix, name, service = {
            "training": (TrainingForm, "training", "training_form", appraisals.training_record),
            "evaluation": (EvaluationForm, "evaluation", "evaluation_form", appraisals.evaluation_record),
            "reward_penalty": (RewardPenaltyForm, "reward", "reward_penalty_form", appraisals.reward_penalty_record),
        }[action]
        form = form_class(request.POST, prefix=prefix)
        if form.is_valid():
            try:
                service(actor=request.user, profile=profile, **form.cleaned_data)
            except ValidationError as error:
                if profile.user_id == request.user.pk:  # no form on one's own page: say it above
                    _errors(request, error)
                _form_errors(form, error)
            else:
                messages.success(request, _("Recorded."))
                return redirect("staff:clerk-detail", pk=profile.pk)
        response = self.render_to_response(self.get_context_data(**{name: form}))
        response.status_code = 400
        return response

    def post(self, request, *args, **kwargs):
        _need(request, "staff.change_staffprofile")
        self.object = self.get_object()
        profile = self.object
        action = request.POST.get("action", "save")
        if action in ("training", "evaluation", "reward_penalty"):
            return self._record(request, profile, action)
        try:
            if action == "deactivate":
                staff_set_active(
                    actor=request.user, user=profile.user, active=False, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("The account was deactivated; its history is kept."))
            elif action == "activate":
                staff_set_active(actor=request.user, user=profile.user, active=True)
                messages.success(request, _("The account was reactivated."))
            elif action == "reset_password":
                staff_password_reset(actor=request.user, user=profile.user, send_by=request.POST.get("send_by", "sms"))
                messages.success(request, _("A new password was sent; it must be changed at the next login."))
            else:
                form = ProfileSwitchesForm(request.POST, request.FILES, instance=profile, user=request.user)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(form=form))
                data = form.cleaned_data
                outside = set(profile.sites.all()) - set(form.fields["sites"].queryset)
                profile.refresh_from_db()  # the form's save is not used: the service keeps the grants in step
                try:
                    staff_profile_update(
                        actor=request.user,
                        profile=profile,
                        sites=[*data["sites"], *outside],
                        photo=data.get("photo") or None,
                        **{field: data[field] for field in PROFILE_FIELDS},
                    )
                except ValidationError as error:
                    if profile.user_id == request.user.pk:  # no form on one's own page: say it above
                        raise
                    profile.refresh_from_db()
                    _form_errors(form, error)
                    return self.render_to_response(self.get_context_data(form=form))
                messages.success(request, _("Saved."))
        except ValidationError as error:
            _errors(request, error)
        return redirect("staff:clerk-detail", pk=profile.pk)


def clerk_activity(request, pk):
    """Everything a clerk did in a period, as far as the viewer's scope reaches."""
    _need(request, "staff.view_staffprofile")
    profile = get_object_or_404(StaffProfile.objects.restrict(request.user).select_related("user"), pk=pk)
    form = PeriodForm(request.GET or None, user=request.user)
    start, end = _period(form)
    user = profile.user
    events = (
        OrderEvent.objects.restrict(request.user)
        .filter(actor_user=user, at__gte=start, at__lt=end)
        .select_related("order")
        .order_by("-at")[:500]
    )
    audit = (
        AuditEntry.objects.restrict(request.user).filter(actor=user, at__gte=start, at__lt=end).order_by("-at")[:500]
    )
    shifts = Shift.objects.restrict(request.user).filter(clerk=user, opened_at__gte=start, opened_at__lt=end)
    return render(
        request,
        "staff/clerk_activity.html",
        {
            "profile": profile,
            "form": form,
            "events": events,
            "audit": audit,
            "shifts": shifts,
            "start": start,
            "end": end,
        },
    )


def _period(form) -> tuple[datetime.datetime, datetime.datetime]:
    today = timezone.localdate()
    start_day = today.replace(day=1)
    end_day = today
    if form.is_bound and form.is_valid():
        start_day = form.cleaned_data.get("start") or start_day
        end_day = form.cleaned_data.get("end") or end_day
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(start_day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(end_day + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


# --- Grants of regions and stores (ADR 15) ----------------------------------------------------
def _grantees(actor):
    """The accounts whose regions and stores `actor` may change, in the order of the list page."""
    from staff.models import User

    users = User.objects.filter(is_active=True).exclude(pk=actor.pk).prefetch_related("groups")
    users = users.order_by("username")
    return [user for user in users if grantee_may_be_managed(actor, user)]


def grant_users(request):
    """Staff accounts and the regions and stores they hold, for whoever gives them."""
    _need(request, "staff.manage_grants")
    rows = [
        {"user": user, "roles": user.role_labels, "grants": staff_grants_of(user, viewer=request.user)}
        for user in _grantees(request.user)
    ]
    return render(request, "staff/grant_users.html", {"rows": rows})


def grant_user(request, pk):
    """One account's regions and stores: give one, take one back. Effective at once, open
    websockets included (core.services.scope_grant announces the change)."""
    from core.models import Region, Site
    from staff.models import User

    _need(request, "staff.manage_grants")
    user = get_object_or_404(User, pk=pk)
    form = GrantForm(request.POST if request.POST.get("form") == "grant" else None, user=request.user)
    if request.method == "POST" and request.POST.get("form") == "revoke":
        model = {"region": Region, "site": Site}.get(request.POST.get("kind"))
        if model is None:
            raise Http404
        target = get_object_or_404(model, pk=request.POST.get("target"))
        try:
            staff_grant_remove(actor=request.user, user=user, target=target)
        except ValidationError as error:
            _errors(request, error)
            return (
                redirect("staff:grant-user", pk=user.pk)
                if grantee_may_be_managed(request.user, user)
                else (redirect("staff:grant-users"))
            )
        messages.success(request, _("%(target)s was taken back.") % {"target": target})
        return redirect("staff:grant-user", pk=user.pk)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        target = data["region"] or data["site"]
        try:
            staff_grant_add(actor=request.user, user=user, target=target, action=data["action"])
        except ValidationError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("%(target)s was given.") % {"target": target})
            return redirect("staff:grant-user", pk=user.pk)
    manageable = grantee_may_be_managed(request.user, user)
    if not manageable and request.method == "GET":
        messages.error(request, _("You may not change this account's regions and stores."))
        return redirect("staff:grant-users")
    return render(
        request,
        "staff/grant_user.html",
        {
            "grantee": user,
            "roles": user.role_labels,
            "grants": staff_grants_of(user, viewer=request.user) if manageable else [],
            "form": form,
            "manageable": manageable,
        },
        status=400 if form.is_bound and form.errors else 200,
    )


# --- Cashier console -------------------------------------------------------------------------
def _cart(request) -> list[counter.SaleLine]:
    """The till's cart as posted: repeated product ids with their quantities, and scanned codes
    (a scanner in keyboard mode without the script posts `barcode`; each scan is one more)."""
    lines = []
    products = request.POST.getlist("product")
    quantities = request.POST.getlist("quantity")
    from catalog.models import Product

    for index, product_id in enumerate(products):
        try:
            quantity = int(quantities[index]) if index < len(quantities) else 1
            product = Product.objects.filter(pk=int(product_id), is_active=True).first()
        except ValueError:
            raise ValidationError(_("The cart is not readable; scan the items again.")) from None
        if product is None:
            raise ValidationError(_("A product in the cart is no longer sold."))
        lines.append(counter.SaleLine(product=product, quantity=quantity))
    for code in request.POST.getlist("barcode"):
        if code.strip():
            lines.append(counter.SaleLine(product=None, code=code.strip()))
    return lines


def cashier(request, *, open_form=None, close_form=None):
    """The till: the clerk's shift, the cart (scan or search the catalog), a service sold by
    description, members at the till, finding an order by number. A shift form that was refused
    comes back with what was typed and the reason by the field."""
    _need(request, "staff.use_cashier")
    shift = counter.shift_current(request.user)
    posted = request.POST.get("form") if request.method == "POST" else None
    initial = {"site": shift.site_id if shift else None}
    sale_form = SaleForm(request.POST if posted == "sale" else None, user=request.user, initial=initial)
    till_form = TillForm(
        request.POST if posted == "till" else None, user=request.user, initial=initial, auto_id="till_%s"
    )
    may_members = policies.allowed(request.user, policies.MEMBERS, shift.site if shift else None)
    enrol_form = EnrolForm(
        request.POST if posted == "enrol" else None, user=request.user, initial=initial, auto_id="enrol_%s"
    )
    points_form = PointsAdjustForm(
        request.POST if posted == "points" else None, user=request.user, initial=initial, auto_id="points_%s"
    )
    hours_form = StoreHoursForm(
        request.POST if posted == "hours" else None, user=request.user, initial=initial, auto_id="hours_%s"
    )
    if posted == "hours" and hours_form.is_valid():
        try:
            counter.store_hours_set(actor=request.user, **hours_form.cleaned_data)
        except ValidationError as error:
            _form_errors(hours_form, error)
        except PermissionDenied as error:
            messages.error(request, str(error))  # the switch is off: the form is not on the page
        else:
            messages.success(request, _("The store's opening hours are saved."))
            return redirect("staff:cashier")
    if posted == "till" and till_form.is_valid():
        try:
            order = counter.counter_sale_create(
                actor=request.user,
                site=till_form.cleaned_data["site"],
                lines=_cart(request),
                customer=till_form.cleaned_data.get("customer_phone"),
            )
        except ValidationError as error:
            _form_errors(till_form, error)
        except PermissionDenied as error:
            till_form.add_error(None, str(error))
        else:
            return redirect("staff:cashier-order", pk=order.pk)
    if posted == "sale" and sale_form.is_valid():
        data = sale_form.cleaned_data
        try:
            order = counter.counter_sale_create(
                actor=request.user,
                site=data["site"],
                lines=[
                    counter.SaleLine(
                        product=None,
                        description=data["description"],
                        unit_price=data["amount"],
                        quantity=data["quantity"],
                    )
                ],
                customer=data.get("customer_phone"),
            )
        except ValidationError as error:
            _form_errors(sale_form, error)
        except PermissionDenied as error:
            sale_form.add_error(None, str(error))
        else:
            return redirect("staff:cashier-order", pk=order.pk)
    if posted == "enrol" and enrol_form.is_valid():
        try:
            customer = counter.member_enrol(actor=request.user, **enrol_form.cleaned_data)
        except ValidationError as error:
            _form_errors(enrol_form, error)
        except PermissionDenied as error:
            messages.error(request, str(error))  # the switch is off: the form is not on the page
        else:
            messages.success(request, _("%(phone)s is now a member.") % {"phone": customer.phone})
            return redirect("staff:cashier")
    if posted == "points" and points_form.is_valid():
        data = points_form.cleaned_data
        try:
            counter.member_points_adjust(
                actor=request.user,
                site=data["site"],
                customer=data["phone"],
                points=data["points"],
                reason=data["reason"],
            )
        except ValidationError as error:
            _form_errors(points_form, error)
        except PermissionDenied as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("Points changed by %(points)d.") % {"points": data["points"]})
            return redirect("staff:cashier")
    number = request.GET.get("number", "").strip()
    if number:
        found = Order.objects.restrict(request.user).filter(number__iexact=number).first()
        if found:
            return redirect("staff:cashier-order", pk=found.pk)
        messages.error(request, _("No order %(number)s in your stores.") % {"number": number})
    recent = (
        Order.objects.restrict(request.user)
        .filter(Q(created_by=request.user) | Q(payments__collected_by=request.user))
        .distinct()
        .order_by("-created_at")[:10]
    )
    till_labels = {
        "unknown": _("No product has the barcode or SKU %(code)s."),
        "sold_out": _("Only %(left)d of %(product)s left on the shelf."),
        "remove": _("Remove"),
        "on_shelf": _("on the shelf"),
        "empty": _("Scan or search for products."),
        "none_found": _("Nothing found."),
        "offline": _("The till cannot reach the server; try again."),
        "queued": _("%(n)d sales kept on this till, waiting to be sent."),
        "kept": _("Sale kept on this till (%(amount)s). Change: %(change)s."),
        "sending": _("Sending the sales kept on this till…"),
        "synced": _("%(n)d offline sales sent; %(flagged)d flagged for the manager."),
        "failed": _("Not accepted by the server: %(message)s"),
        "no_catalog": _("This till has not kept the catalog of this store yet; it needs the connection once."),
        "no_method": _("You may take no payment offline here (cash needs an open shift)."),
        "tendered_short": _("The cash tendered is less than the amount."),
        "need_reference": _("Enter the card terminal's reference."),
        "over_limit": _("%(amount)s is above your limit of %(limit)s per collection."),
        "over_daily": _("%(amount)s would take you over your limit of %(limit)s a day."),
        "needs_server": _("Needs the connection."),
        "use_offline_pay": _("The till is offline: take the payment below."),
        "cash": _("Cash"),
        "card": _("Card"),
    }
    return render(
        request,
        "staff/cashier.html",
        {
            "shift": shift,
            "expected": counter.shift_expected(shift) if shift else None,
            "sale_form": sale_form,
            "till_form": till_form,
            "may_sell_services": policies.allowed(request.user, policies.SELL_SERVICES, shift.site if shift else None),
            "may_collect": policies.allowed(request.user, policies.COLLECT, shift.site if shift else None),
            "may_members": may_members,
            "enrol_form": enrol_form,
            "points_form": points_form,
            "hours_form": hours_form,
            "may_settings": policies.allowed(request.user, policies.SETTINGS, shift.site if shift else None),
            "till_labels": till_labels,
            "open_form": open_form or ShiftOpenForm(user=request.user, auto_id="shift_%s"),
            "close_form": close_form or ShiftCloseForm(),
            "recent": recent,
            "pending_approvals": RefundApproval.objects.filter(requested_by=request.user, status="pending").count(),
        },
    )


@require_POST
def shift_open_view(request):
    _need(request, "staff.add_shift")
    form = ShiftOpenForm(request.POST, user=request.user, auto_id="shift_%s")
    if form.is_valid():
        try:
            counter.shift_open(
                actor=request.user, site=form.cleaned_data["site"], opening_float=form.cleaned_data["opening_float"]
            )
        except ValidationError as error:
            _form_errors(form, error)
        except PermissionDenied as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Shift opened."))
            return redirect("staff:cashier")
    return cashier(request, open_form=form)


@require_POST
def shift_close_view(request, pk):
    _need(request, "staff.change_shift")
    shift = get_object_or_404(Shift.objects.restrict(request.user), pk=pk)
    form = ShiftCloseForm(request.POST)
    if not form.is_valid():
        return cashier(request, close_form=form)
    try:
        closed = counter.shift_close(
            actor=request.user,
            shift=shift,
            counted_amount=form.cleaned_data["counted_amount"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        _errors(request, error)
    except PermissionDenied as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request,
            _("Shift closed: expected %(expected)s, counted %(counted)s, variance %(variance)s.")
            % {"expected": closed.expected_amount, "counted": closed.counted_amount, "variance": closed.variance},
        )
    return redirect(request.POST.get("next") or "staff:cashier")


def cashier_order(request, pk):
    """One order at the till: collect, request a refund, print the receipt."""
    _need(request, "staff.use_cashier")
    order = get_object_or_404(
        Order.objects.restrict(request.user).select_related("site", "customer").prefetch_related("lines"), pk=pk
    )
    collect_form = CollectForm(
        request.POST if request.POST.get("form") == "collect" else None,
        initial={"amount": order.balance_due, "method": "cash"},
        user=request.user,
    )
    void_form = VoidForm(request.POST if request.POST.get("form") == "void" else None)
    return_form = ReturnForm(request.POST if request.POST.get("form") == "return" else None)
    refund_form = RefundRequestForm(
        request.POST if request.POST.get("form") == "refund" else None, initial={"amount": order.refundable_amount}
    )
    if request.method == "POST":
        _need(
            request, "orders.add_refund" if request.POST.get("form") in ("refund", "return") else "orders.add_payment"
        )
        try:
            if request.POST.get("form") == "void" and void_form.is_valid():
                counter.counter_void(actor=request.user, order=order, reason=void_form.cleaned_data["reason"])
                messages.success(request, _("The order was voided; its items are back on the shelf."))
                return redirect("staff:cashier-order", pk=order.pk)
            if request.POST.get("form") == "return" and return_form.is_valid():
                data = return_form.cleaned_data
                outcome = counter.counter_return(
                    actor=request.user,
                    order=order,
                    line_id=data["line"],
                    quantity=data["quantity"],
                    destination=data["destination"],
                    reason=data["reason"],
                )
                if outcome.needs_approval:
                    messages.warning(request, _("The items are back; the refund waits for approval."))
                else:
                    messages.success(request, _("The items are back and the refund is made."))
                return redirect("staff:cashier-order", pk=order.pk)
            if request.POST.get("form") == "collect" and collect_form.is_valid():
                data = collect_form.cleaned_data
                offline_at = data.get("offline_at")
                if offline_at is not None and timezone.is_naive(offline_at):
                    offline_at = timezone.make_aware(offline_at)
                collection = counter.counter_collect(
                    actor=request.user,
                    order=order,
                    method=data["method"],
                    amount=data["amount"],
                    tendered=data.get("tendered"),
                    reference=data.get("reference") or "",
                    offline_at=offline_at,
                )
                if collection.payment.status == Payment.Status.PENDING:
                    messages.info(request, _("Waiting for the customer to pay."))
                elif collection.payment.status == Payment.Status.FAILED:
                    messages.error(request, _("The payment failed."))
                else:
                    messages.success(
                        request,
                        _("Collected %(amount)s. Change: %(change)s.")
                        % {"amount": collection.payment.amount, "change": collection.change},
                    )
                return redirect("staff:cashier-order", pk=order.pk)
            if request.POST.get("form") == "coupon":
                from members.coupons import coupon_apply

                redemption = coupon_apply(order=order, code=request.POST.get("code", ""), actor=request.user)
                messages.success(request, _("Coupon applied: %(amount)s off.") % {"amount": redemption.amount})
                return redirect("staff:cashier-order", pk=order.pk)
            if request.POST.get("form") == "refund" and refund_form.is_valid():
                outcome = counter.refund_request(
                    actor=request.user,
                    order=order,
                    amount=refund_form.cleaned_data["amount"],
                    reason=refund_form.cleaned_data["reason"],
                )
                if outcome.needs_approval:
                    messages.warning(
                        request,
                        _("The refund is above your limit and was sent for approval to the %(level)s.")
                        % {"level": outcome.approval.get_level_display().lower()},
                    )
                elif outcome.refund.status == Refund.Status.SUCCEEDED:
                    messages.success(request, _("Refunded %(amount)s.") % {"amount": outcome.refund.amount})
                else:
                    messages.error(request, _("The refund failed."))
                return redirect("staff:cashier-order", pk=order.pk)
        except ValidationError as error:
            if request.POST.get("form") in ("coupon", "void", "return"):
                _errors(request, error)
            else:
                _form_errors(collect_form if request.POST.get("form") == "collect" else refund_form, error)
        except PermissionDenied as error:
            messages.error(request, str(error))
    order.refresh_from_db()
    waiting = [
        {"payment": payment, "qr_svg": _qr_svg(payment.data["qr"])}
        for payment in order.payments.filter(status=Payment.Status.PENDING)
        if payment.data.get("qr")
    ]
    return render(
        request,
        "staff/cashier_order.html",
        {
            "order": order,
            "collect_form": collect_form,
            "refund_form": refund_form,
            "payments": order.payments.select_related("collected_by"),
            "approvals": order.refund_approvals.select_related("requested_by", "decided_by"),
            "events": order.events.all(),
            "shift": counter.shift_current(request.user),
            "waiting": waiting,
            "void_form": void_form,
            "return_form": return_form,
            "discounts": discount_lines(order),
            "may_collect": policies.allowed(request.user, policies.COLLECT, order.site),
            "may_refund": policies.allowed(request.user, policies.REFUND, order.site),
            "returnable": [
                (line, line.quantity - counter.returned_quantity(order, line))
                for line in order.lines.filter(product__isnull=False)
            ]
            if order.paid_amount > 0
            else [],
        },
    )


# --- Colleagues' and customers' ratings (seed 004; ADR 15) ------------------------------------
def _works_in_a_store(user) -> bool:
    """Store staff have colleagues to rate; an administrator who may sell at any till has none."""
    from staff.policies import profile_of

    profile = profile_of(user)
    if profile is None:
        return False
    # Asked by the navigation on every page: once per request's user, like profile_of itself.
    cache = user.__dict__.setdefault("_staff_profile", {})
    if "has_store" not in cache:
        cache["has_store"] = profile.sites.exists()
    return cache["has_store"]


def colleague_ratings(request):
    """Evaluations of colleagues from the same stores, to add one's own rating to."""
    from staff.appraisals import colleagues_of, peer_rating_add
    from staff.models import Evaluation

    _need(request, "staff.use_cashier")
    evaluations = (
        Evaluation.objects.filter(profile__in=colleagues_of(request.user))
        .exclude(peer_ratings__rater=request.user)
        .select_related("profile__user")
        .order_by("-period_end")[:50]
    )
    form = PeerRatingForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        evaluation = get_object_or_404(
            Evaluation.objects.select_related("profile__user"), pk=form.cleaned_data["evaluation"]
        )
        try:
            peer_rating_add(
                actor=request.user,
                evaluation=evaluation,
                score=form.cleaned_data["score"],
                comment=form.cleaned_data["comment"],
            )
        except ValidationError as error:
            _errors(request, error)
            return render(request, "staff/colleague_ratings.html", {"evaluations": evaluations}, status=400)
        messages.success(request, _("Thank you; your rating was recorded."))
        return redirect("staff:colleague-ratings")
    if request.method == "POST":
        messages.error(request, _("Choose a score from 1 to 5."))
    return render(
        request,
        "staff/colleague_ratings.html",
        {"evaluations": evaluations},
        status=400 if request.method == "POST" else 200,
    )


def customer_rating(request, token):
    """Public: a customer rates the collection on their receipt (its QR code). No sign-in; once
    per collection; rate-limited per address."""
    from rest_framework.throttling import BaseThrottle

    from staff.appraisals import RatingRefused, customer_rating_add, rating_payment

    payment = rating_payment(token)
    if payment is None:
        return render(
            request,
            "staff/customer_rating.html",
            {"refused": _("This link is not valid or has expired.")},
            status=404,
        )
    form = CustomerRatingForm(request.POST or None)
    context = {"payment": payment, "order": payment.order, "form": form}
    if request.method == "POST" and form.is_valid():
        try:
            customer_rating_add(
                payment=payment,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
                client_address=BaseThrottle().get_ident(request) or "",
            )
        except RatingRefused as refused:
            return render(
                request, "staff/customer_rating.html", {**context, "refused": refused.message}, status=refused.status
            )
        return render(request, "staff/customer_rating.html", {**context, "thanks": True})
    if request.method == "GET" and hasattr(payment, "feedback"):
        context["refused"] = _("This collection has been rated already. Thank you!")
    return render(request, "staff/customer_rating.html", context, status=400 if form.is_bound else 200)


def _rating_qr(request, payments):
    """The receipt's QR code for rating its latest collection by a clerk, with the link it holds."""
    from staff.appraisals import rating_token

    collected = [p for p in payments if p.collected_by_id]
    if not collected:
        return None, None
    link = request.build_absolute_uri(reverse("staff:customer-rating", args=[rating_token(collected[-1])]))
    return _qr_svg(link), link


def _qr_svg(text: str) -> str:
    """The QR code a customer scans to pay (Alipay, WeChat Pay, a Stripe link), as inline SVG."""
    import io

    import segno

    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="svg", scale=6, xmldecl=False, svgns=True)
    return buffer.getvalue().decode()


def receipt(request, pk):
    _need(request, "orders.view_order")
    order = get_object_or_404(
        Order.objects.restrict(request.user).select_related("site", "region").prefetch_related("lines"), pk=pk
    )
    payments = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("collected_at", "pk")
    refunds = order.refunds.filter(status=Refund.Status.SUCCEEDED)
    rating_qr, rating_link = _rating_qr(request, list(payments))
    return render(
        request,
        "staff/receipt.html",
        {
            "order": order,
            "payments": payments,
            "refunds": refunds,
            "discounts": discount_lines(order),
            "rating_qr": rating_qr,
            "rating_link": rating_link,
        },
    )


# --- Shifts, approvals, alerts, rules --------------------------------------------------------
class ShiftListView(ScopedListView):
    model = Shift
    url_name = "staff:shift-list"
    title = gettext_lazy("Shifts")
    select_related = ("site", "clerk", "closed_by")
    columns = [
        ("opened_at", pgettext_lazy("shift", "Opened")),
        ("site", gettext_lazy("Store")),
        ("clerk", gettext_lazy("Clerk")),
        ("opening_float", gettext_lazy("Cash float")),
        ("closed_at", pgettext_lazy("shift", "Closed")),
        ("expected_amount", gettext_lazy("Expected")),
        ("counted_amount", gettext_lazy("Counted")),
        ("variance", gettext_lazy("Variance")),
        ("closed_by", gettext_lazy("Closed by")),
    ]


class ApprovalListView(ScopedListView):
    model = RefundApproval
    url_name = "staff:approval-list"
    detail_url_name = "staff:approval-detail"
    title = gettext_lazy("Refund approvals")
    select_related = ("order", "site", "requested_by", "decided_by")
    columns = [
        ("order__number", gettext_lazy("Order")),
        ("status", gettext_lazy("Status")),
        ("amount", gettext_lazy("Amount")),
        ("reason", gettext_lazy("Reason")),
        ("level", gettext_lazy("Approver")),
        ("requested_by", gettext_lazy("Requested by")),
        ("requested_at", gettext_lazy("Requested")),
        ("decided_by", gettext_lazy("Decided by")),
    ]

    def base_queryset(self):
        queryset = super().base_queryset()
        status = self.request.GET.get("status")
        return queryset.filter(status=status) if status in RefundApproval.Status.values else queryset


class ApprovalDetailView(ScopedDetailView):
    model = RefundApproval
    template_name = "staff/approval_detail.html"
    select_related = ("order", "site", "requested_by", "decided_by", "refund")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_decide"] = self.object.status == "pending" and counter.may_approve(self.request.user, self.object)
        context["form"] = DecisionForm()
        return context

    def post(self, request, *args, **kwargs):
        _need(request, "staff.change_refundapproval")
        self.object = self.get_object()
        form = DecisionForm(request.POST)
        if not form.is_valid():
            raise Http404
        try:
            decided = counter.refund_approval_decide(
                actor=request.user,
                approval=self.object,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as error:
            _errors(request, error)
        except PermissionDenied as error:
            messages.error(request, str(error))
        else:
            messages.success(
                request,
                _("Approved: %(amount)s refunded.") % {"amount": decided.amount}
                if decided.status == "approved"
                else _("Rejected; no money was moved."),
            )
        return redirect("staff:approval-detail", pk=self.object.pk)


class OfflineSaleListView(ScopedListView):
    """Sales the till made offline; the flagged ones first, for the manager to resolve."""

    model = OfflineSale
    url_name = "staff:offline-sale-list"
    detail_url_name = "staff:offline-sale-detail"
    title = gettext_lazy("Offline sales")
    select_related = ("order", "site", "clerk", "resolved_by")
    columns = [
        ("happened_at", gettext_lazy("Happened")),
        ("order__number", gettext_lazy("Order")),
        ("site", gettext_lazy("Store")),
        ("clerk", gettext_lazy("Clerk")),
        ("method", gettext_lazy("Method")),
        ("amount", gettext_lazy("Amount")),
        ("status", gettext_lazy("Status")),
        ("resolved_by", gettext_lazy("Resolved by")),
    ]

    def base_queryset(self):
        queryset = super().base_queryset()
        status = self.request.GET.get("status")
        return queryset.filter(status=status) if status in OfflineSale.Status.values else queryset


class OfflineSaleDetailView(ScopedDetailView):
    model = OfflineSale
    template_name = "staff/offline_sale_detail.html"
    select_related = ("order", "site", "clerk", "shift", "resolved_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_resolve"] = (
            self.object.status == OfflineSale.Status.FLAGGED
            and self.request.user.has_perm("staff.change_offlinesale")
            and counter._manages(self.request.user, self.object.site)
        )
        return context

    def post(self, request, *args, **kwargs):
        _need(request, "staff.change_offlinesale")
        self.object = self.get_object()
        from staff.offline import offline_sale_resolve

        try:
            offline_sale_resolve(actor=request.user, sale=self.object, resolution=request.POST.get("resolution", ""))
        except ValidationError as error:
            _errors(request, error)
        except PermissionDenied as error:
            messages.error(request, str(error))
        else:
            messages.success(request, _("The offline sale is resolved."))
        return redirect("staff:offline-sale-detail", pk=self.object.pk)


def till_service_worker(request):
    """The till's service worker, served from /staff/cashier/ so its scope is the till page. It is
    a template so it lists the static files by their deployed (hashed) names; it holds no data."""
    response = render(request, "staff/till-sw.js", content_type="application/javascript")
    response["Cache-Control"] = "no-cache"
    return response


class AlertListView(ScopedListView):
    model = StaffAlert
    url_name = "staff:alert-list"
    title = gettext_lazy("Staff alerts")
    template_name = "staff/alert_list.html"
    select_related = ("site", "clerk", "acknowledged_by")
    columns = [
        ("created_at", gettext_lazy("Raised")),
        ("kind", gettext_lazy("Rule")),
        ("site", gettext_lazy("Store")),
        ("clerk", gettext_lazy("Clerk")),
        ("text", gettext_lazy("Message")),
        ("acknowledged_by", gettext_lazy("Acknowledged by")),
    ]


@require_POST
def alert_acknowledge_view(request, pk):
    _need(request, "staff.change_staffalert")
    alert = get_object_or_404(StaffAlert.objects.restrict(request.user), pk=pk)
    from staff.anomalies import alert_acknowledge

    alert_acknowledge(actor=request.user, alert=alert)
    return redirect("staff:alert-list")


class RuleListView(ScopedListView):
    model = AnomalyRule
    url_name = "staff:rule-list"
    title = gettext_lazy("Anomaly rules")
    select_related = ("region",)
    columns = [
        ("region", gettext_lazy("Region")),
        ("kind", gettext_lazy("Rule")),
        ("threshold", gettext_lazy("Threshold")),
        ("is_active", gettext_lazy("Active")),
    ]
    actions = [(gettext_lazy("Set a rule"), "staff:rule-edit", "staff.add_anomalyrule")]


def rule_edit(request):
    """Create or replace the rule of a kind for a region (one per region and kind)."""
    _need(request, "staff.add_anomalyrule")
    form = AnomalyRuleForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        rule, created = AnomalyRule.objects.update_or_create(
            region=data["region"],
            kind=data["kind"],
            defaults={"threshold": data["threshold"], "is_active": data["is_active"]},
        )
        from core.services import audit_record

        audit_record(
            actor=request.user,
            action="anomaly_rule.set",
            obj=rule,
            changes={"threshold": str(rule.threshold), "active": rule.is_active},
            region=rule.region,
        )
        messages.success(request, _("Rule saved."))
        return redirect("staff:rule-list")
    return render(request, "staff/form.html", {"form": form, "title": _("Set an anomaly rule")})


# --- Monitoring and performance --------------------------------------------------------------
def monitor(request):
    """A live feed of collections and refunds in the viewer's stores."""
    _need(request, "orders.view_payment")
    payments = (
        Payment.objects.restrict(request.user)
        .filter(status=Payment.Status.SUCCEEDED)
        .select_related("order__site", "collected_by")[:50]
    )
    refunds = (
        Refund.objects.restrict(request.user)
        .filter(status=Refund.Status.SUCCEEDED)
        .select_related("order__site", "requested_by", "payment")[:50]
    )
    feed = sorted(
        [
            {
                "kind": "payment",
                "at": p.collected_at,
                "order": p.order,
                "amount": p.amount,
                "provider": p.provider,
                "who": p.collected_by,
                "offline": p.offline,
            }
            for p in payments
        ]
        + [
            {
                "kind": "refund",
                "at": r.created_at,
                "order": r.order,
                "amount": r.amount,
                "provider": r.payment.provider,
                "who": r.requested_by,
                "offline": False,
            }
            for r in refunds
        ],
        key=lambda row: row["at"],
        reverse=True,
    )[:50]
    labels = {
        "payment": _("Collection"),
        "refund": _("Refund"),
        "offline": _("offline"),
        "live": _("live"),
        "off": _("reconnecting…"),
        # Payment methods by code, for the rows that arrive live.
        "methods": labels_of("payment.method"),
    }
    return render(request, "staff/monitor.html", {"feed": feed, "labels": labels})


def performance(request):
    _need(request, "staff.view_performance")
    from staff.selectors import performance_rows

    form = PeriodForm(request.GET or None, user=request.user)
    start, end = _period(form)
    site = form.cleaned_data.get("site") if form.is_bound and form.is_valid() else None
    rows = performance_rows(viewer=request.user, start=start, end=end, site=site)
    export = request.GET.get("export")
    if export in ("csv", "xlsx"):
        from staff.selectors import performance_export

        content, content_type = performance_export(rows, export)
        response = HttpResponse(content, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="clerk-performance-{start:%Y%m%d}-{end:%Y%m%d}.{export}"'
        )
        return response
    from core import charts

    chart = (
        charts.chart(
            "bar",
            [row["clerk"] for row in rows],
            [
                charts.series(pgettext("money", "Collected"), [row["collected_amount"] for row in rows]),
                charts.series(_("Refunded"), [row["refunded_amount"] for row in rows]),
            ],
            money=True,
        )
        if rows
        else None
    )
    query = request.GET.copy()
    query.pop("export", None)
    return render(
        request,
        "staff/performance.html",
        {
            "form": form,
            "rows": rows,
            "chart": chart,
            "start": start,
            "end": end - datetime.timedelta(days=1),
            "query": query.urlencode(),
        },
    )


nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Cashier"),
    url_name="staff:cashier",
    permission="staff.use_cashier",
    order=5,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Shifts"),
    url_name="staff:shift-list",
    permission="staff.view_shift",
    order=6,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Refund approvals"),
    url_name="staff:approval-list",
    permission="staff.view_refundapproval",
    order=7,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Offline sales"),
    url_name="staff:offline-sale-list",
    permission="staff.view_offlinesale",
    order=7,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Live collections"),
    url_name="staff:monitor",
    permission="orders.view_payment",
    order=8,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Staff alerts"),
    url_name="staff:alert-list",
    permission="staff.view_staffalert",
    order=9,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Clerks"),
    url_name="staff:clerk-list",
    permission="staff.view_staffprofile",
    order=10,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Clerk performance"),
    url_name="staff:performance",
    permission="staff.view_performance",
    order=11,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Regions and stores of staff"),
    url_name="staff:grant-users",
    permission="staff.manage_grants",
    order=13,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Rate colleagues"),
    url_name="staff:colleague-ratings",
    permission="staff.use_cashier",
    order=14,
    when=_works_in_a_store,
)
nav_register(
    section=gettext_lazy("Store"),
    label=gettext_lazy("Anomaly rules"),
    url_name="staff:rule-list",
    permission="staff.view_anomalyrule",
    order=12,
)
