from django.urls import path

from accounting import recon_views, views

app_name = "accounting"
urlpatterns = [
    path("finance/", views.finance_dashboard, name="finance"),
    path("partners/", views.PartnerListView.as_view(), name="partner-list"),
    path("partners/new/", views.partner_create, name="partner-create"),
    path("partners/<int:pk>/", views.PartnerDetailView.as_view(), name="partner-detail"),
    path("partners/<int:pk>/edit/", views.partner_edit, name="partner-edit"),
    path("partners/<int:pk>/statement/", views.partner_statement, name="partner-statement"),
    path("rules/", views.RuleListView.as_view(), name="rule-list"),
    path("rules/new/", views.rule_create_page, name="rule-create"),
    path("rules/<int:pk>/", views.rule_edit, name="rule-edit"),
    path("accruals/", views.AccrualListView.as_view(), name="accrual-list"),
    path("withdrawals/", views.WithdrawalListView.as_view(), name="withdrawal-list"),
    path("withdrawals/bank-file/", views.bank_file, name="bank-file"),
    path("withdrawals/<int:pk>/", views.WithdrawalDetailView.as_view(), name="withdrawal-detail"),
    path("withdrawals/<int:pk>/act/", views.withdrawal_act, name="withdrawal-act"),
    path("portal/", views.portal, name="portal"),
    path("portal/withdrawals/", views.portal_withdrawals, name="portal-withdrawals"),
    path("portal/statement/", views.portal_statement, name="portal-statement"),
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
