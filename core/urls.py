from django.urls import path

from core import views

app_name = "core"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/cards/", views.dashboard_cards, name="dashboard-cards"),
    path("regions/", views.RegionListView.as_view(), name="region-list"),
    path("settings/", views.region_settings_index, name="region-settings-index"),
    path("regions/<int:pk>/settings/", views.region_settings, name="region-settings"),
    path("sites/", views.SiteListView.as_view(), name="site-list"),
    path("sites/<int:pk>/", views.SiteDetailView.as_view(), name="site-detail"),
    path("audit/", views.AuditListView.as_view(), name="audit-list"),
    path("outbox/", views.OutboxListView.as_view(), name="outbox"),
    path("notifications/", views.notification_list, name="notification-list"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
    path("exports/<int:pk>/", views.export_job, name="export-job"),
    path("exports/<int:pk>/status/", views.export_job_status, name="export-status"),
    path("exports/<int:pk>/download/", views.export_download, name="export-download"),
]
