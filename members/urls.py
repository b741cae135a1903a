from django.urls import path

from members import views

app_name = "members"
urlpatterns = [
    path("customers/", views.CustomerListView.as_view(), name="customer-list"),
    path("customers/<int:pk>/", views.CustomerDetailView.as_view(), name="customer-detail"),
    path("coupons/", views.CouponListView.as_view(), name="coupon-list"),
    path("coupons/new/", views.coupon_create, name="coupon-create"),
    path("promotions/", views.PromotionListView.as_view(), name="promotion-list"),
    path("promotions/new/", views.promotion_create, name="promotion-create"),
    path("feedback/", views.FeedbackListView.as_view(), name="feedback-list"),
    path("feedback/<int:pk>/", views.FeedbackDetailView.as_view(), name="feedback-detail"),
]
