from django.urls import path

from forecasts import views

app_name = "forecasts"

urlpatterns = [
    path("", views.forecast_index, name="index"),
    path("machine/<int:pk>/", views.machine_forecast, name="machine"),
    path("product/<int:pk>/", views.product_forecast, name="product"),
]
