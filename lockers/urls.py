from django.urls import path

from lockers import views

app_name = "lockers"
urlpatterns = [
    path("compartments/", views.CompartmentListView.as_view(), name="compartment-list"),
    path("banks/<int:pk>/", views.BankDetailView.as_view(), name="bank-detail"),
    path("orders/new/", views.locker_order_new, name="order-new"),
    path("returns/", views.return_task_list, name="return-list"),
    path("returns/<int:pk>/open/", views.return_task_action, {"step": "open"}, name="return-open"),
    path("returns/<int:pk>/done/", views.return_task_action, {"step": "done"}, name="return-done"),
]
