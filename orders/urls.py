from django.urls import path

from orders import partner_views, views

app_name = "orders"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="order-list"),
    path("export/", views.order_export, name="order-export"),
    path("<int:pk>/", views.OrderDetailView.as_view(), name="order-detail"),
    path("partners/", partner_views.PartnerClientListView.as_view(), name="partner-list"),
    path("partners/new/", partner_views.partner_create, name="partner-create"),
    path("partners/<int:pk>/", partner_views.PartnerClientDetailView.as_view(), name="partner-detail"),
    path("partners/<int:pk>/edit/", partner_views.partner_edit, name="partner-edit"),
    path("partners/<int:pk>/revoke/", partner_views.partner_revoke, name="partner-revoke"),
    path("partners/<int:pk>/new-key/", partner_views.partner_key_new, name="partner-key-new"),
    path("partners/<int:pk>/ping/", partner_views.partner_ping, name="partner-ping"),
    path("webhooks/", partner_views.WebhookDeliveryListView.as_view(), name="webhook-delivery-list"),
    path("webhooks/<int:pk>/", partner_views.WebhookDeliveryDetailView.as_view(), name="webhook-delivery-detail"),
]
