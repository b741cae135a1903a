"""A real browser (Debian's Chromium through Playwright) logs in as each role and opens every
console page its navigation offers, plus the first detail page of each list. Any server error,
JavaScript error or console error fails the test, and so does a page that scrolls sideways on a
desktop (a wide table scrolls inside itself). Pages are discovered from the navigation, so a page
added tomorrow is covered without touching this file."""

import re
from urllib.parse import urlparse

import pytest

from tests.browser.helpers import PASSWORD, Watcher, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROLES = [
    "platform_admin",
    "regional_admin",
    "store_manager",
    "clerk",
    "service_staff",
    "supplier",
    "finance",
    "partner",
]


@pytest.fixture
def users(world):
    from tests.factories import DeviceFactory, ProductFactory, make_order

    DeviceFactory(site=world.east_store)
    ProductFactory(supplier=world.supplier)
    make_order(site=world.east_store, paid=True)
    return {
        "platform_admin": world.admin,
        "regional_admin": world.regional,
        "store_manager": world.manager,
        "clerk": world.clerk,
        "service_staff": world.service,
        "supplier": world.supplier_user,
        "finance": world.finance,
        "partner": world.partner_user,
    }


def _nav_links(page) -> list[str]:
    return page.eval_on_selector_all("nav.sidenav a", "links => links.map(a => a.getAttribute('href'))")


def _first_detail_link(page, list_path) -> str | None:
    hrefs = page.eval_on_selector_all("main table a", "links => links.map(a => a.getAttribute('href'))")
    for href in hrefs:
        path = urlparse(href).path
        if path.startswith(list_path) and re.search(r"/\d+/$", path):
            return path
    return None


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_every_page_it_may_use(browser, asgi_server, users, role):
    user = users[role]
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, user.username)
    links = _nav_links(page)
    assert links, f"{role} sees no navigation"
    opened, wide = [], []
    for link in links:
        response = page.goto(asgi_server.url + link)
        assert response.status == 200, f"{role}: {link} answered {response.status}"
        opened.append(link)
        wide += _wider_than_the_window(page, link)
        detail = _first_detail_link(page, link)
        if detail:
            response = page.goto(asgi_server.url + detail)
            assert response.status == 200, f"{role}: {detail} answered {response.status}"
            opened.append(detail)
            wide += _wider_than_the_window(page, detail)
    context.close()
    assert watcher.problems == [], f"{role} met errors on {opened}"
    assert wide == [], f"{role}: pages scroll sideways on a {DESKTOP['width']} px window"


DESKTOP = {"width": 1280, "height": 800}


def _wider_than_the_window(page, path) -> list[str]:
    width = page.evaluate("document.documentElement.scrollWidth")
    return [f"{path} ({width} px)"] if width > DESKTOP["width"] else []


def test_a_role_does_not_see_or_open_what_it_may_not_use(browser, asgi_server, users):
    from django.urls import reverse

    orders_url = reverse("orders:order-list")
    context = browser.new_context()
    page = context.new_page()
    log_in(page, asgi_server.url, users["supplier"].username)
    assert orders_url not in _nav_links(page)
    response = page.goto(asgi_server.url + orders_url)
    assert response.status == 403
    context.close()


def test_language_switcher_turns_the_console_chinese(browser, asgi_server, users):
    context = browser.new_context()
    page = context.new_page()
    watcher = Watcher(page)
    log_in(page, asgi_server.url, users["regional_admin"].username)
    assert page.get_attribute("html", "lang") == "en"
    with page.expect_navigation():
        page.select_option("select[name=language]", "zh-hans")
    assert page.get_attribute("html", "lang") == "zh-hans"
    assert "管理后台" in page.content()
    context.close()
    assert watcher.problems == []


def test_admin_and_api_docs_render_for_a_superuser(browser, asgi_server, django_user_model):
    django_user_model.objects.create_superuser("root", password=PASSWORD)
    context = browser.new_context()
    page = context.new_page()
    watcher = Watcher(page)
    page.goto(f"{asgi_server.url}/admin/login/")
    page.fill("#id_username", "root")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#content")
    assert page.url.rstrip("/").endswith("/admin")
    page.goto(f"{asgi_server.url}/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15000)
    assert page.locator(".opblock").count() > 0
    context.close()
    assert watcher.problems == []
