from django.urls import path

from members import views

app_name = "members"
urlpatterns = [path("customers/", views.CustomerListView.as_view(), name="customer-list")]
