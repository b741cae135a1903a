from django.urls import path

from accounting import recon_views

app_name = "accounting"
urlpatterns: list = [
    path("reconciliation/", recon_views.SummaryView.as_view(), name="recon-summary"),
    path("reconciliation/lines/", recon_views.ReconItemListView.as_view(), name="recon-item-list"),
    path("reconciliation/lines/<int:pk>/", recon_views.ReconItemDetailView.as_view(), name="recon-item-detail"),
    path("reconciliation/statements/", recon_views.StatementListView.as_view(), name="statement-list"),
    path("reconciliation/statements/import/", recon_views.StatementUploadView.as_view(), name="statement-upload"),
    path(
        "reconciliation/statements/fetch-stripe/", recon_views.StripeFetchView.as_view(), name="statement-fetch-stripe"
    ),
    path("reconciliation/statements/<int:pk>/", recon_views.StatementDetailView.as_view(), name="statement-detail"),
    path("journal/", recon_views.JournalView.as_view(), name="journal"),
    path("journal/accounts/", recon_views.JournalAccountsView.as_view(), name="journal-accounts"),
]
