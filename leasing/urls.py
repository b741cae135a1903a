from django.urls import path

from leasing import views

app_name = "leasing"
urlpatterns = [
    path("", views.LeaseListView.as_view(), name="lease-list"),
    path("assets/", views.AssetListView.as_view(), name="asset-list"),
]
