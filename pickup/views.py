"""The counter page where a clerk takes a customer's pickup code, issuing pickup codes for
collection at a counter, the pickup queue (waiting and not collected orders), and code
regeneration."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.console import nav_register
from core.forms import preselect_only_choice
from core.models import Site
from orders.models import Order
from pickup.services import (
    EntryLocked,
    InvalidCode,
    code_regenerate,
    counter_phone_confirmation_send,
    counter_redeem,
    counter_redeem_confirmed,
    pickup_order_create,
    pickup_ready_at_counter,
)


class CounterForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Counter"))
    code = forms.CharField(
        label=_("Pickup code"),
        max_length=32,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user, "view").filter(kind=Site.Kind.STORE)
        preselect_only_choice(self, "site")


class PhoneConfirmForm(CounterForm):
    """While code entry is locked: the code together with a one-time code sent to the customer's phone."""

    phone = forms.CharField(label=_("Customer's phone"), max_length=32)
    confirmation = forms.CharField(
        label=_("Code from the SMS"),
        max_length=12,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, *args, sending: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)
        if sending:
            self.fields["code"].required = False
        else:
            self.fields["confirmation"].required = True


class IssueForOrderForm(forms.Form):
    number = forms.CharField(
        label=_("Order number"), max_length=24, help_text=_("A paid pickup order or counter sale of your store.")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_number(self):
        number = self.cleaned_data["number"].strip()
        order = Order.objects.restrict(self.user, "view").filter(number__iexact=number).first()
        if order is None:
            raise forms.ValidationError(_("No order %(number)s in your stores.") % {"number": number})
        self.order = order
        return number


class IssueNewForm(forms.Form):
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"))
    recipient_phone = forms.CharField(label=_("Recipient's phone"), max_length=32)
    reference = forms.CharField(
        label=_("Reference"), max_length=64, required=False, help_text=_("The online shop's order number.")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user, "view").filter(kind=Site.Kind.STORE)
        preselect_only_choice(self, "site")


def issue(request):
    """Issue a pickup code: for a paid order of the store, or for an order bought elsewhere that is
    collected here. The customer gets the code by SMS; the page never shows it."""
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("pickup.add_pickupcode"):
        raise PermissionDenied
    action = request.POST.get("action") if request.method == "POST" else ""
    order_form = IssueForOrderForm(request.POST if action == "order" else None, user=request.user)
    new_form = IssueNewForm(request.POST if action == "new" else None, user=request.user)
    try:
        if action == "order" and order_form.is_valid():
            row = pickup_ready_at_counter(order=order_form.order, actor=request.user)
        elif action == "new" and new_form.is_valid():
            data = new_form.cleaned_data
            _order, row = pickup_order_create(
                site=data["site"],
                recipient_phone=data["recipient_phone"],
                reference=data["reference"],
                actor=request.user,
            )
        else:
            row = None
    except ValidationError as error:
        form = order_form if action == "order" else new_form
        messages_by_field = error.message_dict if hasattr(error, "error_dict") else {None: error.messages}
        for field, errors in messages_by_field.items():
            target = {"phone": "recipient_phone"}.get(field, field)
            form.add_error(target if target in form.fields else None, errors)
        row = None
    if row is not None:
        messages.success(
            request,
            _("Order %(number)s: the pickup code was sent to the customer.") % {"number": row.order.number},
        )
        return redirect("pickup:issue")
    return render(
        request,
        "pickup/issue.html",
        {"order_form": order_form, "new_form": new_form, "title": _("Issue a pickup code")},
    )


def counter(request):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("pickup.change_pickupcode"):
        raise PermissionDenied
    action = request.POST.get("action", "check") if request.method == "POST" else ""
    form = CounterForm(request.POST if action == "check" else None, user=request.user)
    phone_form = PhoneConfirmForm(
        request.POST if action in ("send", "confirm") else None, user=request.user, sending=action == "send"
    )
    handed = None
    show_phone = action in ("send", "confirm")
    if action == "check" and form.is_valid():
        try:
            handed = counter_redeem(site=form.cleaned_data["site"], code=form.cleaned_data["code"], actor=request.user)
        except EntryLocked as error:
            form.add_error("code", error.messages[0])
            show_phone = True
        except InvalidCode as error:
            form.add_error("code", error.messages[0])
    elif action == "send" and phone_form.is_valid():
        try:
            counter_phone_confirmation_send(
                site=phone_form.cleaned_data["site"], phone=phone_form.cleaned_data["phone"]
            )
        except ValidationError as error:
            phone_form.add_error("phone", error.messages[0])
        else:
            messages.info(
                request, _("If an order for this number waits here, a confirmation code was sent to it by SMS.")
            )
    elif action == "confirm" and phone_form.is_valid():
        data = phone_form.cleaned_data
        try:
            handed = counter_redeem_confirmed(
                site=data["site"], code=data["code"], phone=data["phone"], otp=data["confirmation"], actor=request.user
            )
        except ValidationError as error:
            phone_form.add_error("confirmation", error.messages[0])
    if handed is not None:
        messages.success(request, _("Hand over order %(number)s.") % {"number": handed.number})
        site = (form.cleaned_data if action == "check" else phone_form.cleaned_data)["site"]
        form = CounterForm(initial={"site": site}, user=request.user)
        phone_form = PhoneConfirmForm(user=request.user)
        show_phone = False
    return render(
        request,
        "pickup/counter.html",
        {
            "form": form,
            "phone_form": phone_form,
            "show_phone": show_phone,
            "handed": handed,
            "title": _("Pickup counter"),
        },
    )


def qr(request, token):
    """The QR image of a pickup code, from the signed link in the customer's message."""
    import io

    import segno
    from django.core import signing
    from django.http import Http404, HttpResponse

    try:
        code = signing.loads(token, salt="pickup-qr", max_age=7 * 24 * 3600)
    except signing.BadSignature:
        raise Http404 from None
    buffer = io.BytesIO()
    segno.make(str(code), error="m").save(buffer, kind="svg", scale=8, xmldecl=False)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml", headers={"Cache-Control": "private, no-store"})


class QueueFilter(forms.Form):
    WAITING, NOT_COLLECTED = "waiting", "not_collected"
    state = forms.ChoiceField(
        label=_("Show"),
        choices=[(WAITING, _("Waiting to be collected")), (NOT_COLLECTED, _("Not collected: put the goods back"))],
        required=False,
    )
    site = forms.ModelChoiceField(queryset=Site.objects.none(), label=_("Store"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["site"].queryset = Site.objects.restrict(user, "view").filter(kind=Site.Kind.STORE)


def queue(request):
    """The store's pickup shelf: orders waiting for their customer (with when the code expires, and
    a new code for a customer who lost theirs), and orders nobody collected, whose goods staff must
    put back."""
    from urllib.parse import urlencode

    from django.core.paginator import Paginator
    from django.db.models import Max, Q

    from orders.models import OrderStatus
    from pickup.models import PickupCode
    from pickup.services import COUNTER_KINDS, NOT_COLLECTED, PUT_BACK

    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("pickup.change_pickupcode"):
        raise PermissionDenied
    form = QueueFilter(request.GET or None, user=request.user)
    data = form.cleaned_data if form.is_valid() else {}
    state = data.get("state") or QueueFilter.WAITING
    orders = Order.objects.restrict(request.user, "view").filter(
        kind__in=COUNTER_KINDS, site__isnull=False, locker__isnull=True, pickup_codes__isnull=False
    )
    if state == QueueFilter.NOT_COLLECTED:
        orders = orders.filter(status=OrderStatus.FAILED, events__action=NOT_COLLECTED).exclude(events__action=PUT_BACK)
    else:
        orders = orders.filter(status=OrderStatus.FULFILLING)
    if data.get("site"):
        orders = orders.filter(site=data["site"])
    live = Q(pickup_codes__purpose=PickupCode.Purpose.PICKUP) & ~Q(pickup_codes__status=PickupCode.Status.REVOKED)
    orders = (
        orders.annotate(code_expires_at=Max("pickup_codes__expires_at", filter=live))
        .select_related("site", "customer")
        .order_by("code_expires_at", "pk")
        .distinct()
    )
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "pickup/queue.html",
        {
            "form": form,
            "page": page,
            "page_obj": page,
            "paginator": page.paginator,
            "is_paginated": page.has_other_pages(),
            "querystring": urlencode({k: v for k, v in request.GET.items() if k != "page"}),
            "state": state,
            "not_collected": state == QueueFilter.NOT_COLLECTED,
            "now": timezone.now(),
            "title": _("Pickup queue"),
        },
    )


@require_POST
def put_back(request, order_pk):
    """A clerk took a not-collected order's goods off the pickup shelf."""
    from pickup.services import uncollected_put_back

    if not request.user.is_authenticated or not request.user.has_perm("pickup.change_pickupcode"):
        raise PermissionDenied
    # The clerks who hand orders over at the store's counter put them back there too (their grant).
    order = get_object_or_404(Order.objects.restrict(request.user, "view"), pk=order_pk)
    try:
        uncollected_put_back(order=order, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Order %(number)s: goods put back.") % {"number": order.number})
    return redirect(f"{reverse('pickup:queue')}?state={QueueFilter.NOT_COLLECTED}")


@require_POST
def regenerate(request, order_pk):
    if not request.user.is_authenticated or not request.user.has_perm("pickup.change_pickupcode"):
        raise PermissionDenied
    order = get_object_or_404(Order.objects.restrict(request.user, "change"), pk=order_pk)
    try:
        code_regenerate(order=order, actor=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("A new code was sent; the old one no longer works."))
    return redirect("orders:order-detail", pk=order.pk)


nav_register(
    section=_("Orders"),
    label=_("Issue a pickup code"),
    url_name="pickup:issue",
    permission="pickup.add_pickupcode",
    order=12,
)
nav_register(
    section=_("Orders"),
    label=_("Pickup queue"),
    url_name="pickup:queue",
    permission="pickup.change_pickupcode",
    order=12,
)
nav_register(
    section=_("Orders"),
    label=_("Pickup counter"),
    url_name="pickup:counter",
    permission="pickup.change_pickupcode",
    order=12,
)
