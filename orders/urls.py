from django.urls import path

from orders import views

app_name = "orders"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="order-list"),
    path("export/", views.order_export, name="order-export"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
]
