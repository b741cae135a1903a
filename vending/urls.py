from django.urls import path

from vending import views

app_name = "vending"
urlpatterns = [path("slots/", views.SlotListView.as_view(), name="slot-list")]
