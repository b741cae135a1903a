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
from pickup.services import EntryLocked, InvalidCode, code_regenerate, counter_redeem


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


def counter(request):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("pickup.change_pickupcode"):
        raise PermissionDenied
    form = CounterForm(request.POST or None, user=request.user)
    handed = None
    if request.method == "POST" and form.is_valid():
        try:
            handed = counter_redeem(site=form.cleaned_data["site"], code=form.cleaned_data["code"], actor=request.user)
        except (InvalidCode, EntryLocked) as error:
            form.add_error("code", error.messages[0])
        else:
            messages.success(request, _("Hand over order %(number)s.") % {"number": handed.number})
            form = CounterForm(initial={"site": form.cleaned_data["site"]}, user=request.user)
    return render(request, "pickup/counter.html", {"form": form, "handed": handed, "title": _("Pickup counter")})


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
