"""A date picker keeps its date in every language: the value is ISO (yyyy-mm-dd), the only form a
browser's date input accepts; in Chinese Django would render 2026/12/06, which the browser drops,
so the route's day showed empty and a filtered report lost its dates on every submit."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


def _date_values(page: str) -> dict[str, str]:
    """Each date input's name and value."""
    values = {}
    for tag in re.findall(r'<input[^>]*type="date"[^>]*>', page):
        value = re.search(r'value="([^"]*)"', tag)
        values[re.search(r'name="([^"]+)"', tag).group(1)] = value.group(1) if value else ""
    return values


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_route_day_and_a_report_period_keep_their_dates(world, client, language):
    client.cookies["django_language"] = language
    client.force_login(world.admin)
    today = timezone.localdate().isoformat()
    route = client.get(reverse("vending:restock-route")).content.decode()
    assert _date_values(route)["day"] == today
    report = client.get(reverse("reports:sales"), {"date_from": "2026-11-01", "date_to": "2026-11-30"})
    assert report.status_code == 200
    values = _date_values(report.content.decode())
    assert values["date_from"] == "2026-11-01" and values["date_to"] == "2026-11-30"
