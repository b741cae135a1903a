from django.urls import path

from lockers import views

app_name = "lockers"
urlpatterns = [
    path("compartments/", views.CompartmentListView.as_view(), name="compartment-list"),
    path("banks/<int:pk>/", views.BankDetailView.as_view(), name="bank-detail"),
]
