from django.urls import path

from reports import views
from reports.pages import REPORT_PAGES

app_name = "reports"
urlpatterns = [path(f"{page.slug}/", views.report, {"slug": page.slug}, name=page.slug) for page in REPORT_PAGES]
urlpatterns += [path("summary/", views.summary, name="summary")]
