"""Every console page, in Simplified Chinese, as every role: the visible text has no English left.

Over the demo data, each role opens every page its navigation offers and the first detail page of
each list, with the language set to zh-hans. What the operators typed is data, not the interface:
names and codes stored in the database are taken out first. What remains may hold only Chinese,
numbers, punctuation and the allow-listed brand names, units and codes."""

import re
from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.urls import reverse

from core.demo import DEMO_USERS

pytestmark = pytest.mark.django_db

# Brand names, units, protocols and codes that stay as they are in a Chinese interface.
ALLOWED = {
    # Forecast error measures and the intermittent-demand methods, named after their authors.
    "mase",
    "wape",
    "croston",
    "sba",
    "tsb",
    "adida",
    "imapa",
    "alipay",
    "wechat",
    "stripe",
    "echarts",
    "leaflet",
    "openstreetmap",
    "csv",
    "xlsx",
    "json",
    "sha",
    "pdf",
    "api",
    "qr",
    "sku",
    "dex",
    "eva",
    "dts",
    "mdb",
    "id",
    "url",
    "cny",
    "rmb",
    "usd",
    "kg",
    "ml",
    "mm",
    "cm",
    "dbm",
    "otp",
    "totp",
    "sms",
    "gps",
    "ip",
    "sn",
    "vm",
    "pb",
    "kr",
    "cu",
    "app",
    "admin",
    "http",
    "https",
    "www",
    "utc",
    "gmt",
    "cst",
    "am",
    "pm",
    "ok",
    "pos",
    "vat",
    "erp",
    "led",
    "usb",
    "rs",
    "ean",
    "upc",
    "iot",
    "django",
    "python",
    "celery",
    "redis",
    "sqlite",
    "postgresql",
    "ptn",
    "dv",
    "demo",
    "webhook",
    "excel",
}
FREE_TEXT_FIELDS = {
    "leasing.RatePlan": ("asset_kind",),
    "leasing.Asset": ("kind",),
    "leasing.BulkItem": ("kind",),
}
WORD = re.compile(r"[A-Za-z]{2,}")
SKIP_TAGS = {"script", "style", "noscript", "template", "svg", "option"}


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class VisibleText(HTMLParser):
    """The text a reader sees: text nodes outside scripts and styles (option labels of big
    pickers are data) and outside what the page marks translate="no" (codes and JSON shown as
    stored), plus placeholders, titles, aria-labels and button values."""

    def __init__(self):
        super().__init__()
        self.parts, self.skipping, self.open = [], 0, []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in VOID:
            skip = tag in SKIP_TAGS or attrs.get("translate") == "no"
            self.open.append((tag, skip))
            self.skipping += skip
        for name in ("placeholder", "title", "aria-label"):
            if attrs.get(name):
                self.parts.append(attrs[name])
        if tag == "input" and attrs.get("type") in ("submit", "button") and attrs.get("value"):
            self.parts.append(attrs["value"])

    def handle_endtag(self, tag):
        if tag not in (name for name, _skip in self.open):
            return  # a stray end tag
        while self.open:  # closes what the tag closes, even an element left open before it
            name, skip = self.open.pop()
            self.skipping -= skip
            if name == tag:
                break

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


# A stored lower-case identifier ("paid", "dispense", "cash", "vending") is a code the interface
# must name in the reader's language (an event, a command, a method, a kind), not operators' data.
IDENTIFIER = re.compile(r"^[a-z][a-z_.]*$")


def data_strings() -> list[str]:
    """Every short text the database holds (names, codes, addresses, messages): operators' data
    (the browser tests of role work read their pages with it too)."""
    values = set()
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField) and not field.choices:
                for value in model._default_manager.values_list(field.attname, flat=True).distinct()[:3000]:
                    if value and 2 <= len(value) <= 300 and not IDENTIFIER.match(value):
                        values.add(value)
    values.update(get_user_model().objects.values_list("username", flat=True))
    # Free text whatever its shape: who did it (an installer, a system actor) and what operators
    # call their rentable goods.
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if field.name in FREE_TEXT_FIELDS.get(model._meta.label, ()) or field.name == "actor_label":
                values.update(v for v in model._default_manager.values_list(field.attname, flat=True) if v)
    demo_users = get_user_model().objects.filter(username__in=[name for name, *_ in DEMO_USERS])
    values.update(user.get_full_name() for user in demo_users if user.get_full_name())
    return sorted(values, key=len, reverse=True)


def english_left(html: str, data: list[str]) -> list[str]:
    parser = VisibleText()
    parser.feed(html)
    text = "\n".join(parser.parts)
    for value in data:
        if value in text:
            text = text.replace(value, " ")
    return sorted({w for w in WORD.findall(text) if w.lower() not in ALLOWED})


def _pages(client) -> list[str]:
    from core.console import nav_for

    page = client.get("/")
    links = [item["url"] for group in nav_for(page.wsgi_request.user) for item in group["items"]]
    links.append(reverse("core:notification-list"))  # the top bar's bell
    pages = []
    for link in links:
        pages.append(link)
        html = client.get(link).content.decode()
        for href in re.findall(r'<a href="([^"]+)"', html.split("<main", 1)[-1]):
            path = urlparse(href).path
            if path.startswith(link) and re.search(r"/\d+/$", path):
                pages.append(path)
                break
    return pages


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock():
        call_command("seed_demo", days=2, orders_per_day=6, verbosity=0)
        yield data_strings()
        from django.core.management import call_command as call

        call("flush", interactive=False, verbosity=0)


@pytest.mark.parametrize("username", [name for name, *_ in DEMO_USERS])
def test_every_console_page_is_chinese_for_every_role(demo, username):
    client = Client(headers={"accept-language": "zh-hans"})
    client.force_login(get_user_model().objects.get(username=username))
    client.cookies["django_language"] = "zh-hans"
    left = {}
    for path in _pages(client):
        response = client.get(path)
        assert response.status_code == 200, f"{path} answered {response.status_code}"
        words = english_left(response.content.decode(), demo)
        if words:
            left[path] = words
    assert left == {}, "English left in zh-hans:\n" + "\n".join(f"{p}: {' '.join(w)}" for p, w in left.items())
