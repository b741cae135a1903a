from django.urls import path

from devices import views

app_name = "devices"
urlpatterns = [
    path("", views.DeviceListView.as_view(), name="device-list"),
    path("<int:pk>/", views.DeviceDetailView.as_view(), name="device-detail"),
    path("<int:pk>/commands/", views.device_command, name="device-command"),
    path("commands/", views.CommandListView.as_view(), name="command-list"),
    path("commands/<int:pk>/cancel/", views.command_cancel_view, name="command-cancel"),
    path("faults/", views.FaultListView.as_view(), name="fault-list"),
    path("faults/<int:pk>/resolve/", views.fault_resolve_view, name="fault-resolve"),
]
