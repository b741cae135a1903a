"""A refused or missing page keeps the console around it (the menu, the language, a way back) and
speaks the reader's language; a yes/no filter's empty choice reads "Any", not "Unknown"."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_refused_page_says_why_in_the_console_with_a_way_back(world, client):
    client.force_login(world.clerk)
    response = client.get(reverse("fulfilment:delivery-new"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Not allowed" in page and 'id="console-nav"' in page and 'href="/"' in page
    assert "Back to your dashboard" in page

    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("fulfilment:delivery-new")).content.decode()
    assert "无权访问" in page and "返回首页" in page and "Not allowed" not in page


def test_a_missing_page_keeps_the_console(world, client, settings):
    settings.DEBUG = False
    client.force_login(world.manager)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "Page not found" in page and 'id="console-nav"' in page and "Back to your dashboard" in page


def test_a_server_error_page_stands_alone_and_points_home(client, settings):
    from django.template.loader import render_to_string

    page = render_to_string("500.html")  # rendered with no request, as Django's server_error does
    assert "Something went wrong" in page and 'href="/"' in page


def test_the_active_filter_offers_any_yes_no(world, client):
    client.force_login(world.admin)
    page = client.get(reverse("devices:device-list")).content.decode()
    assert '<option value="" selected>Any</option>' in page and ">Unknown<" not in page
    client.cookies["django_language"] = "zh-hans"
    page = client.get(reverse("devices:device-list")).content.decode()
    assert ">全部<" in page and ">未知<" not in page
    assert client.get(reverse("devices:device-list"), {"is_active": "false"}).status_code == 200
