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
