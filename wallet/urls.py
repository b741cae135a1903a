from django.urls import path

from wallet import console, views

app_name = "wallet"
urlpatterns = [
    path("notify/<str:code>/", views.payment_notify, name="payment-notify"),
    path("recharges/", console.RechargeListView.as_view(), name="recharge-list"),
    path("bonus-tiers/", console.BonusTierListView.as_view(), name="tier-list"),
    path("bonus-tiers/new/", console.tier_create, name="tier-create"),
]
