from django.urls import path

from leasing import views

app_name = "leasing"
urlpatterns = [
    path("", views.LeaseListView.as_view(), name="lease-list"),
    path("active/", views.active_leases, name="active"),
    path("assets/", views.AssetListView.as_view(), name="asset-list"),
    path("availability/", views.availability_page, name="availability"),
    path("customers/<int:pk>/", views.customer_history, name="customer-history"),
    path("plans/", views.RatePlanListView.as_view(), name="plan-list"),
    path("plans/new/", views.plan_edit, name="plan-create"),
    path("plans/<int:pk>/", views.plan_edit, name="plan-edit"),
]
