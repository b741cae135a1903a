from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("coupons/", views.CouponListView.as_view(), name="coupon-list"),
    path("coupons/new/", views.coupon_create, name="coupon-create"),
]
