"""Every page of the clerk and the service staff (their navigation, plus the first detail page of
each list) on a phone (390 × 844) and a tablet (768 × 1024), over the demo data: the page never
scrolls sideways (wide tables scroll inside themselves) and the main content starts on the first
screen (the navigation folds behind "Menu", which opens it), nothing hidden takes room, and a table
that fits fills the width."""

import re
from urllib.parse import urlparse

import pytest
from django.core.management import call_command

from core.demo import DEMO_PASSWORD
from tests.browser.helpers import Watcher

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SCREENS = {"phone": (390, 844), "tablet": (768, 1024)}

MEASURE = """() => {
  const main = document.querySelector('main');
  const first = [...main.children].find(e => e.getBoundingClientRect().height > 0) || main;
  return {
    pageWidth: document.documentElement.scrollWidth,
    viewport: window.innerWidth,
    contentTop: first.getBoundingClientRect().top + window.scrollY,
    wide: [...document.querySelectorAll('main *')]
      .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1 && !e.closest('table.data, .chart-data, pre'))
      .slice(0, 3).map(e => e.tagName + '.' + e.className + ' ' + (e.id || '')),
    // A table that fits keeps the width it has (one that scrolled by itself shrank to its content).
    shrunk: [...main.querySelectorAll('table.data')]
      .filter(t => t.offsetParent && t.getBoundingClientRect().width < t.parentElement.getBoundingClientRect().width - 2)
      .slice(0, 3).map(t => (t.id || t.className) + ' ' + Math.round(t.getBoundingClientRect().width)),
    shownHidden: [...main.querySelectorAll('[hidden]')]
      .filter(e => e.getBoundingClientRect().height > 0)
      .slice(0, 3).map(e => e.tagName + '.' + e.className),
  };
}"""


@pytest.fixture
def demo(db):
    call_command("seed_demo", days=2, orders_per_day=6, verbosity=0)


def _log_in(page, base, username):
    page.goto(f"{base}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/staff/login/" not in page.url, f"{username} could not log in"


def _pages(page, base) -> list[str]:
    links = page.eval_on_selector_all("nav.sidenav a", "links => links.map(a => a.getAttribute('href'))")
    pages = []
    for link in links:
        pages.append(link)
        page.goto(base + link)
        for href in page.eval_on_selector_all("main table a", "links => links.map(a => a.getAttribute('href'))"):
            path = urlparse(href).path
            if path.startswith(link) and re.search(r"/\d+/$", path):
                pages.append(path)
                break
    return pages


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("username", ["clerk", "service"])
def test_every_page_fits_the_screen(browser, asgi_server, demo, username, screen):
    width, height = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    watcher = Watcher(page)
    _log_in(page, asgi_server.url, username)
    pages = _pages(page, asgi_server.url)
    assert len(pages) >= 3, pages
    problems = []
    for path in pages:
        response = page.goto(asgi_server.url + path)
        assert response.status == 200, f"{path} answered {response.status}"
        seen = page.evaluate(MEASURE)
        if seen["pageWidth"] > seen["viewport"]:
            problems.append(f"{path}: the page scrolls sideways ({seen['pageWidth']} > {width}) {seen['wide']}")
        if seen["shrunk"]:
            problems.append(f"{path}: tables narrower than the page: {seen['shrunk']}")
        if seen["shownHidden"]:  # e.g. the device page's live-update table, an empty box on phones
            problems.append(f"{path}: hidden elements take room: {seen['shownHidden']}")
        if seen["contentTop"] > height / 2:
            problems.append(f"{path}: content starts {seen['contentTop']:.0f} px down")
    assert problems == [], "\n".join(problems)
    if screen == "phone":  # the folded navigation opens with the Menu button
        assert not page.is_visible("nav.sidenav")
        page.click("[data-nav-toggle]")
        assert page.is_visible("nav.sidenav") and page.get_attribute("[data-nav-toggle]", "aria-expanded") == "true"
    context.close()
    assert watcher.problems == []
