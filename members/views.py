"""Console pages of members: customers and coupons."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedListView, nav_register
from core.models import Region
from members.models import Coupon, Customer


class CouponListView(ScopedListView):
    model = Coupon
    url_name = "members:coupon-list"
    title = _("Coupons")
    select_related = ("region",)
    columns = [
        ("code", _("Code")),
        ("name", _("Name")),
        ("kind", _("Kind")),
        ("value", _("Value")),
        ("min_spend", _("Minimum spend")),
        ("region", _("Region")),
        ("valid_from", _("Valid from")),
        ("valid_until", _("Valid until")),
        ("used_count", _("Used")),
        ("total_quantity", _("Total quantity")),
        ("is_active", _("Active")),
    ]
    actions = [(_("New coupon"), "members:coupon-create", "members.add_coupon")]


class CouponForm(forms.ModelForm):
    class Meta:
        model = Coupon
        fields = [
            "code",
            "name",
            "kind",
            "value",
            "min_spend",
            "region",
            "valid_from",
            "valid_until",
            "per_customer_limit",
            "total_quantity",
            "is_active",
        ]
        widgets = {
            "valid_from": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            "valid_until": forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        }

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].queryset = Region.objects.restrict(user, "change")

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("kind") == Coupon.Kind.PERCENT and data.get("value") and data["value"] > 100:
            self.add_error("value", _("A percentage cannot be over 100."))
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] <= data["valid_from"]:
            self.add_error("valid_until", _("The coupon must end after it starts."))
        return data


def coupon_create(request):
    if not request.user.has_perm("members.add_coupon"):
        raise PermissionDenied
    form = CouponForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        coupon = form.save()
        from core.services import audit_record

        audit_record(actor=request.user, action="coupon.create", obj=coupon, region=coupon.region)
        messages.success(request, gettext("Coupon %(code)s created.") % {"code": coupon.code})
        return redirect("members:coupon-list")
    return render(request, "staff/form.html", {"form": form, "title": gettext("New coupon")})


class CustomerListView(ScopedListView):
    model = Customer
    url_name = "members:customer-list"
    title = _("Customers")
    columns = [
        ("phone", _("Phone")),
        ("name", _("Name")),
        ("home_region", _("Home region")),
        ("created_at", _("Registered")),
    ]
    select_related = ("home_region",)


nav_register(
    section=_("Customers"),
    label=_("Customers"),
    url_name="members:customer-list",
    permission="members.view_customer",
    order=60,
)
nav_register(
    section=_("Customers"),
    label=_("Coupons"),
    url_name="members:coupon-list",
    permission="members.view_coupon",
    order=61,
)
