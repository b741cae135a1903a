"""An id larger than any column holds is "no such row", never a 500 (found by schemathesis).

SQLite's driver raised OverflowError for `?sites=100000000000000000000` (django-filter's
multiple-choice filter asks `pk__in=[...]`) and for a foreign key compared with such a number;
core/lookups.py makes both lookups drop values outside the column's range, on every database.
"""

from __future__ import annotations

import pytest

from core.models import Region, Site

pytestmark = pytest.mark.django_db

HUGE = 10**20


@pytest.mark.parametrize("who", ["admin", "regional"])
def test_filter_by_an_id_beyond_the_column_range_is_a_400_not_a_500(world, api_client, who):
    api_client.force_authenticate(getattr(world, who))
    response = api_client.get(f"/api/v1/staff-profiles/?sites={HUGE}")
    assert response.status_code == 400, response.content
    assert "sites" in response.json()


def test_filter_mixing_a_real_and_a_huge_id_still_refuses_the_unknown_one(world, api_client):
    api_client.force_authenticate(world.admin)
    response = api_client.get(f"/api/v1/staff-profiles/?sites={world.east_store.pk}&sites={HUGE}")
    assert response.status_code == 400, response.content


def test_lookups_with_an_out_of_range_integer_match_nothing(world):
    assert list(Site.objects.filter(pk__in=[HUGE])) == []
    assert list(Site.objects.filter(region=HUGE)) == []
    assert list(Site.objects.filter(region_id=-HUGE)) == []
    assert set(Site.objects.filter(region__in=[HUGE, world.east.pk])) == {world.east_store}
    assert set(Region.objects.filter(pk__in=[HUGE, world.west.pk])) == {world.west}
    assert Site.objects.exclude(region=HUGE).count() == Site.objects.count()
    assert Site.objects.exclude(pk__in=[HUGE]).count() == Site.objects.count()


@pytest.mark.django_db
def test_a_limit_or_offset_no_database_can_hold_is_a_page_not_a_500(world, api_client):
    api_client.force_authenticate(world.admin)
    for params in ({"limit": 2**63}, {"offset": 2**63}, {"limit": 2**63, "offset": 2**64}):
        response = api_client.get("/api/v1/bulk-items/", params)
        assert response.status_code == 200, (params, response.content[:200])
        assert len(response.json()["results"]) <= 500
