from django.urls import path

from staff import otp, views

app_name = "staff"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("password/", views.PasswordChangeView.as_view(), name="password-change"),
    path("two-factor/", otp.otp_verify, name="otp-verify"),
    path("two-factor/setup/", otp.otp_setup, name="otp-setup"),
    path("two-factor/enrol/<str:token>/", otp.otp_enrol, name="otp-enrol"),
    path("two-factor/enrolments/", otp.otp_enrolments, name="otp-enrolments"),
    path("clerks/", views.ClerkListView.as_view(), name="clerk-list"),
    path("clerks/new/", views.clerk_create_view, name="clerk-create"),
    path("clerks/<int:pk>/", views.ClerkDetailView.as_view(), name="clerk-detail"),
    path("clerks/<int:pk>/activity/", views.clerk_activity, name="clerk-activity"),
    path("grants/", views.grant_users, name="grant-users"),
    path("grants/<int:pk>/", views.grant_user, name="grant-user"),
    path("colleagues/", views.colleague_ratings, name="colleague-ratings"),
    path("rate/<str:token>/", views.customer_rating, name="customer-rating"),
    path("cashier/", views.cashier, name="cashier"),
    path("cashier/orders/<int:pk>/", views.cashier_order, name="cashier-order"),
    path("cashier/sw.js", views.till_service_worker, name="till-sw"),
    path("offline-sales/", views.OfflineSaleListView.as_view(), name="offline-sale-list"),
    path("offline-sales/<int:pk>/", views.OfflineSaleDetailView.as_view(), name="offline-sale-detail"),
    path("orders/<int:pk>/receipt/", views.receipt, name="receipt"),
    path("shifts/", views.ShiftListView.as_view(), name="shift-list"),
    path("shifts/open/", views.shift_open_view, name="shift-open"),
    path("shifts/<int:pk>/close/", views.shift_close_view, name="shift-close"),
    path("approvals/", views.ApprovalListView.as_view(), name="approval-list"),
    path("approvals/<int:pk>/", views.ApprovalDetailView.as_view(), name="approval-detail"),
    path("alerts/", views.AlertListView.as_view(), name="alert-list"),
    path("alerts/<int:pk>/acknowledge/", views.alert_acknowledge_view, name="alert-ack"),
    path("rules/", views.RuleListView.as_view(), name="rule-list"),
    path("rules/set/", views.rule_edit, name="rule-edit"),
    path("monitor/", views.monitor, name="monitor"),
    path("performance/", views.performance, name="performance"),
]
