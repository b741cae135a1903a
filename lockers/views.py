"""Console pages of lockers: every compartment of the banks in scope, with its state; placing a
locker order for a recipient (the drop-off code shown once); return-to-sender tasks for service
staff, phone-sized."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.live import choice_labels
from devices.models import Device
from lockers.models import Compartment, ReturnTask
from lockers.services import KEEP_DAYS_MAX, locker_order_create, return_task_done, return_task_open


class BankDetailView(ScopedDetailView):
    """One locker bank's compartments as a grid that follows the doors live."""

    model = Device
    template_name = "lockers/bank_detail.html"
    select_related = ("site",)

    def get_queryset(self):
        return super().get_queryset().filter(kind=Device.Kind.LOCKER)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["compartments"] = self.object.compartments.order_by("door")
        context["state_labels"] = choice_labels(Compartment.State.choices)
        return context


class CompartmentListView(ScopedListView):
    model = Compartment
    url_name = "lockers:compartment-list"
    title = _("Locker compartments")
    select_related = ("bank",)
    paginate_by = 200
    detail_url_name = ""
    columns = [
        ("bank", _("Locker bank")),
        ("door", _("Door")),
        ("size", _("Size")),
        ("state", _("State")),
        ("door_open", _("Door open")),
    ]


class LockerOrderForm(forms.Form):
    bank = forms.ModelChoiceField(queryset=Device.objects.none(), label=_("Locker bank"))
    size = forms.ChoiceField(
        label=_("Size"),
        choices=Compartment.Size.choices,
        help_text=_("The smallest free compartment of this size or larger is reserved."),
    )
    recipient_phone = forms.CharField(label=_("Recipient's phone"), max_length=32)
    parcel_reference = forms.CharField(label=_("Parcel reference"), max_length=64, required=False)
    sender_phone = forms.CharField(
        label=_("Sender's phone"),
        max_length=32,
        required=False,
        help_text=_("Told by SMS if the parcel is not collected and goes back."),
    )
    keep_days = forms.IntegerField(
        label=_("Keep for (days)"),
        min_value=1,
        max_value=KEEP_DAYS_MAX,
        required=False,
        help_text=_("Leave empty for the bank's storage rule."),
    )
    overdue_fee = forms.BooleanField(label=_("The recipient pays the overdue fee"), required=False, initial=True)
    open_now = forms.BooleanField(label=_("Open the door now (I am at the bank with the parcel)"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["bank"].queryset = (
            Device.objects.restrict(user, "view").filter(kind=Device.Kind.LOCKER).select_related("site")
        )


def locker_order_new(request):
    """Place a parcel for a recipient: the drop-off code is on the answer page, once."""
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("lockers.add_lockerorder"):
        raise PermissionDenied
    form = LockerOrderForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            locker_order, code = locker_order_create(
                bank=data["bank"],
                size=data["size"],
                recipient_phone=data["recipient_phone"],
                parcel_reference=data["parcel_reference"],
                sender_phone=data["sender_phone"],
                keep_days=data["keep_days"],
                overdue_fee=data["overdue_fee"],
                open_now=data["open_now"],
                actor=request.user,
            )
        except ValidationError as error:
            for field, errors in (
                error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
            ).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            response = render(
                request,
                "lockers/locker_order_created.html",
                {"locker_order": locker_order, "code": code, "title": _("Locker order placed")},
            )
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "lockers/locker_order_form.html", {"form": form, "title": _("New locker order")})


def _may_handle_returns(request):
    if not request.user.is_authenticated:
        return False
    if not request.user.has_perm("lockers.change_returntask"):
        raise PermissionDenied
    return True


def return_task_list(request):
    """Parcels to take out of compartments and return to their senders, for service staff on a phone."""
    if not _may_handle_returns(request):
        return redirect("staff:login")
    tasks = (
        ReturnTask.objects.restrict(request.user, "view")
        .filter(done_at__isnull=True)
        .select_related("locker_order__order", "locker_order__compartment", "locker_order__bank__site")
        .order_by("created_at")
    )
    return render(request, "lockers/return_tasks.html", {"tasks": tasks, "title": _("Returns to sender")})


@require_POST
def return_task_action(request, pk, step):
    if not _may_handle_returns(request):
        return redirect("staff:login")
    task = get_object_or_404(ReturnTask.objects.restrict(request.user, "view"), pk=pk)
    try:
        if step == "open":
            return_task_open(task=task, actor=request.user)
            messages.success(
                request, _("The door of compartment %(door)s opens.") % {"door": task.locker_order.compartment.door}
            )
        else:
            return_task_done(task=task, actor=request.user)
            messages.success(
                request, _("Return of order %(number)s done.") % {"number": task.locker_order.order.number}
            )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("lockers:return-list")


nav_register(
    section=_("Orders"),
    label=_("New locker order"),
    url_name="lockers:order-new",
    permission="lockers.add_lockerorder",
    order=13,
)
nav_register(
    section=_("Fleet"),
    label=_("Returns to sender"),
    url_name="lockers:return-list",
    permission="lockers.change_returntask",
    order=26,
)
nav_register(
    section=_("Fleet"),
    label=_("Locker compartments"),
    url_name="lockers:compartment-list",
    permission="lockers.view_compartment",
    order=25,
)
