"""Shared pieces of the browser tests."""

PASSWORD = "pass-12345-word"  # tests/factories.py UserFactory's password


class Watcher:
    """Collects server errors and JavaScript errors of one browser page."""

    def __init__(self, page):
        self.problems: list[str] = []
        page.on("response", self._response)
        page.on("console", lambda message: message.type == "error" and self.problems.append(f"console: {message.text}"))
        page.on("pageerror", lambda error: self.problems.append(f"javascript: {error}"))

    def _response(self, response):
        if response.status >= 500:
            self.problems.append(f"{response.status} {response.url}")


def log_in(page, base, username):
    page.goto(f"{base}/staff/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/staff/login/" not in page.url, f"{username} could not log in"


def screenshot(page, name: str) -> None:
    """Keep what the page looks like as `$VAR_DIR/screenshots/<name>.png`, for people to look at
    (CI keeps var/ as an artefact)."""
    from django.conf import settings

    folder = settings.VAR_DIR / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def _unfold_navigation(page) -> None:
    """On a phone the navigation and the account bar fold behind "Menu"."""
    toggle = page.locator("[data-nav-toggle]")
    if toggle.count() and toggle.is_visible() and toggle.get_attribute("aria-expanded") != "true":
        toggle.click()


def choose_language(page, language: str) -> None:
    """Switch the console's language with its own switch (any page, the login page included)."""
    if page.get_attribute("html", "lang") == language:
        return
    select = page.locator("select[name=language]")
    if not select.is_visible():
        _unfold_navigation(page)
    with page.expect_navigation():
        select.select_option(language)
    assert page.get_attribute("html", "lang") == language


def open_from_navigation(page, url_name: str) -> None:
    """Follow a link of the console's navigation, as a user would, unfolding it on a phone."""
    link = page.locator(f"nav.sidenav a[data-url-name='{url_name}']")
    if not link.is_visible():
        _unfold_navigation(page)
    with page.expect_navigation():
        link.click()


def till_cash_sale(page, *, opening_float: str, description: str, amount: str, tendered: str) -> None:
    """At the till: open a shift with its cash float, sell a service not in the catalog, and take
    cash for it; the page ends on the order's till page."""
    page.fill("#shift_opening_float", opening_float)
    page.click("#open-shift")
    page.wait_for_selector("#expected-cash")
    page.fill("#sale-form #id_description", description)
    page.fill("#sale-form #id_amount", amount)
    page.click("#sale-form button[type=submit]")
    page.wait_for_selector("#collect-form")
    page.select_option("#collect-form #id_method", "cash")
    page.fill("#collect-form #id_amount", amount)
    page.fill("#collect-form #id_tendered", tendered)
    page.click("#collect-form button[type=submit]")
    page.wait_for_selector("#refund-form")
