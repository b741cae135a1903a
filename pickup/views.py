"""The counter page where a clerk takes a customer's pickup code, and code regeneration."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from core.console import nav_register
from core.models import Site
from orders.models import Order
from pickup.services import (
    EntryLocked,
    InvalidCode,
    code_regenerate,
    counter_phone_confirmation_send,
    counter_redeem,
    counter_redeem_confirmed,
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
    label=_("Pickup counter"),
    url_name="pickup:counter",
    permission="pickup.change_pickupcode",
    order=12,
)
