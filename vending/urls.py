from django.urls import path

from vending import views

app_name = "vending"
urlpatterns = [
    path("slots/", views.SlotListView.as_view(), name="slot-list"),
    path("low-stock/", views.low_stock, name="low-stock"),
    path("machines/<int:pk>/planogram/", views.planogram, name="planogram"),
    path("planogram/import/", views.planogram_import_view, name="planogram-import"),
    path("restock/", views.RestockTaskListView.as_view(), name="restock-list"),
    path("restock/plan/", views.restock_plan, name="restock-plan"),
    path("restock/load/", views.restock_load, name="restock-load"),
    path("restock/route/", views.restock_route, name="restock-route"),
    path("restock/<int:pk>/", views.RestockTaskDetailView.as_view(), name="restock-detail"),
    path("supplier/", views.supplier_dashboard, name="supplier-dashboard"),
    path("dex/<int:pk>/reconcile/", views.dex_reconcile, name="dex-reconcile"),
]
