"""Console pages of members: customers and coupons."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedDetailView, ScopedListView, form_page, nav_register
from core.forms import RegionScopedModelForm, window_input
from members.models import Coupon, CouponRedemption, Customer, Feedback, Promotion


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


class CouponForm(RegionScopedModelForm):
    window = ("valid_from", "valid_until")
    window_message = _("The coupon must end after it starts.")

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
        widgets = {"valid_from": window_input(), "valid_until": window_input()}

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean(self):
        data = super().clean()
        if data.get("kind") == Coupon.Kind.PERCENT and data.get("value") and data["value"] > 100:
            self.add_error("value", _("A percentage cannot be over 100."))
        return data


class CustomerDetailView(ScopedDetailView):
    model = Customer
    template_name = "members/customer_detail.html"
    select_related = ("home_region",)

    def get_context_data(self, **kwargs):
        from orders.models import Order
        from wallet.services import balances, statement

        context = super().get_context_data(**kwargs)
        customer = self.object
        context.update(
            balances=balances(customer=customer),
            statement=statement(customer=customer)[:50],
            points=customer.points_entries.all()[:50],
            orders=Order.objects.restrict(self.request.user).filter(customer=customer)[:50],
            coupons=CouponRedemption.objects.filter(customer=customer).select_related("coupon", "order")[:50],
            feedback=Feedback.objects.restrict(self.request.user).filter(customer=customer)[:50],
        )
        return context


class FeedbackListView(ScopedListView):
    model = Feedback
    url_name = "members:feedback-list"
    detail_url_name = "members:feedback-detail"
    title = _("Feedback inbox")
    select_related = ("customer", "site", "order")
    columns = [
        ("created_at", _("Received")),
        ("status", _("Status")),
        ("rating", _("Rating")),
        ("subject", _("About")),
        ("customer", _("Customer")),
        ("site", _("Store")),
        ("order", _("Order")),
        ("comment", _("Comment")),
    ]

    def base_queryset(self):
        queryset = super().base_queryset()
        status = self.request.GET.get("status")
        return queryset.filter(status=status) if status in ("open", "replied", "closed") else queryset


class FeedbackDetailView(ScopedDetailView):
    model = Feedback
    template_name = "members/feedback_detail.html"
    select_related = ("customer", "site", "order", "device", "product", "replied_by")

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm("members.change_feedback"):
            raise PermissionDenied
        self.object = self.get_object()
        from django.core.exceptions import ValidationError

        from members.services import feedback_reply

        try:
            feedback_reply(
                feedback=self.object,
                actor=request.user,
                reply=request.POST.get("reply", ""),
                close=bool(request.POST.get("close")),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, gettext("Reply sent."))
        return redirect("members:feedback-detail", pk=self.object.pk)


class PromotionListView(ScopedListView):
    model = Promotion
    url_name = "members:promotion-list"
    title = _("Promotions")
    select_related = ("region", "product")
    columns = [
        ("name", _("Name")),
        ("kind", _("Kind")),
        ("region", _("Region")),
        ("starts_at", _("Starts")),
        ("ends_at", _("Ends")),
        ("percent", _("Percent off")),
        ("product", _("Product")),
        ("buy_quantity", _("Buy")),
        ("free_quantity", _("Get free")),
        ("given_count", _("Orders")),
        ("given_value", _("Value given")),
        ("is_active", _("Active")),
    ]
    actions = [(_("New promotion"), "members:promotion-create", "members.add_promotion")]


class PromotionForm(RegionScopedModelForm):
    window = ("starts_at", "ends_at")
    window_message = _("The promotion must end after it starts.")

    class Meta:
        model = Promotion
        fields = [
            "name",
            "kind",
            "region",
            "starts_at",
            "ends_at",
            "percent",
            "product",
            "buy_quantity",
            "free_quantity",
            "is_active",
        ]
        widgets = {"starts_at": window_input(), "ends_at": window_input()}

    def clean(self):
        data = super().clean()
        if data.get("kind") == Promotion.Kind.PERCENT_OFF and not (data.get("percent") or 0) > 0:
            self.add_error("percent", _("Enter the percentage off."))
        if data.get("kind") == Promotion.Kind.BUY_X_GET_Y:
            if not data.get("product"):
                self.add_error("product", _("Choose the product."))
            if not data.get("buy_quantity") or not data.get("free_quantity"):
                self.add_error("free_quantity", _("Enter how many to buy and how many are free."))
        return data


def promotion_create(request):
    return form_page(
        request,
        form=PromotionForm(request.POST or None, user=request.user),
        permission="members.add_promotion",
        title=gettext("New promotion"),
        success_url="members:promotion-list",
        audit_action="promotion.create",
        message=lambda promotion: gettext("Promotion %(name)s created.") % {"name": promotion.name},
    )


def coupon_create(request):
    return form_page(
        request,
        form=CouponForm(request.POST or None, user=request.user),
        permission="members.add_coupon",
        title=gettext("New coupon"),
        success_url="members:coupon-list",
        audit_action="coupon.create",
        message=lambda coupon: gettext("Coupon %(code)s created.") % {"code": coupon.code},
    )


class CustomerListView(ScopedListView):
    model = Customer
    url_name = "members:customer-list"
    detail_url_name = "members:customer-detail"
    title = _("Customers")
    columns = [
        ("phone", _("Phone")),
        ("name", _("Name")),
        ("home_region", _("Home region")),
        ("level", _("Level")),
        ("points", _("Points")),
        ("segment", _("Segment")),
        ("created_at", _("Registered")),
    ]
    sortable = ("phone", "created_at")  # the unique phone, and the default order
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
nav_register(
    section=_("Customers"),
    label=_("Feedback inbox"),
    url_name="members:feedback-list",
    permission="members.view_feedback",
    order=62,
)
nav_register(
    section=_("Customers"),
    label=_("Promotions"),
    url_name="members:promotion-list",
    permission="members.view_promotion",
    order=63,
)
