from django.urls import path

from wallet import views

app_name = "wallet"
urlpatterns = [
    path("notify/<str:code>/", views.payment_notify, name="payment-notify"),
]
