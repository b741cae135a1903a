"""Issue 22's first "done when": ten minutes after `make run`, at least 90 % of the demo devices are
online and every console list page of every role shows rows.

`make run`'s demo is driven in-process: `seed_demo` (what `make run` loads), then ten minutes of
the demo fleet simulator (`demo_fleet`, the process `supervise` starts) and the beat's offline
detection on a compressed clock, nobody driving the simulated cabinets (the simulator stands in
for them). Then each demo login opens every page its navigation offers, as a browser would, and
every page that lists something (a table, a list view) must show at least one row, not the empty
state ("Nothing to show." and its kin, `class="empty"`)."""

import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.demo import DEMO_USERS
from devices.models import Device
from devices.services import devices_mark_offline
from vending.management.commands.demo_fleet import cabinet_driven_devices
from vending.simulation import DemoFleet

STEP_SECONDS = 5
# Pages that stay empty for a role whatever the demo holds, each with its reason. None now: store
# grants read their region's reference data and their buyers (docs/adr/0035), the demo store has a
# rental station, the Shanghai statements belong to Shanghai, webhook deliveries show their codes
# verbatim, and a supplier's rankings have no per-machine section. Left: delivery orders held for
# stock, which fulfilment's own demo (fulfilment/demo.py, another branch) brings. An entry is
# checked to be still empty, so a fix shows up here as a failure to remove it.
KNOWN_EMPTY: dict[str, set[str]] = {}
EMPTY = re.compile(r'<(td|li|p|div)[^>]*class="[^"]*\bempty\b[^"]*"[^>]*>(.*?)</\1>', re.S)


@pytest.fixture(scope="module")
def demo_ten_minutes_on(django_db_setup, django_db_blocker):
    from config.celery import app

    # `make run`'s worker runs what the seed queued (the embedded broker): here, eagerly.
    app.conf.task_always_eager = True
    with django_db_blocker.unblock():
        # Two weeks, past the shares' freeze: the partners have money to withdraw.
        call_command("seed_demo", days=14, orders_per_day=40, verbosity=0)
        fleet = DemoFleet(seed=11, skip=cabinet_driven_devices())
        start = now = timezone.now()
        while now < start + datetime.timedelta(minutes=10):
            fleet.tick(now)
            devices_mark_offline(now=now)
            now += datetime.timedelta(seconds=STEP_SECONDS)
        yield
        call_command("flush", interactive=False, verbosity=0)
    app.conf.task_always_eager = False


def _main(html: str) -> str:
    return html.split("<main", 1)[-1].split("</main>", 1)[0]


def _is_list(response) -> bool:
    """A list view, a table, or a page showing an empty state (a list of forms, of cards)."""
    context = response.context or {}
    if "object_list" in context or "page_obj" in context:
        return True
    main = _main(response.content.decode())
    return "<table" in main or EMPTY.search(main) is not None


def _nav_pages(client) -> list[str]:
    from core.console import nav_for

    page = client.get("/")
    return [item["url"] for group in nav_for(page.wsgi_request.user) for item in group["items"]]


@pytest.mark.django_db
def test_ten_minutes_after_make_run_nine_in_ten_demo_devices_are_online(demo_ten_minutes_on):
    demo = Device.objects.filter(credential__token_prefix="dv_demo")
    assert demo.count() >= 30
    online = demo.filter(state=Device.State.ONLINE).count()
    assert online >= 0.9 * demo.count(), (online, demo.count())


@pytest.mark.django_db
@pytest.mark.parametrize("username", [name for name, *_ in DEMO_USERS])
def test_every_console_list_page_of_every_role_shows_rows(demo_ten_minutes_on, username):
    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    pages = _nav_pages(client)
    assert pages, f"{username} has no navigation"
    if username == "partner":
        pages.append(reverse("accounting:portal-withdrawals"))
    lists, empty = 0, {}
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, f"{username}: {path} answered {response.status_code}"
        if not _is_list(response):
            continue
        lists += 1
        found = [re.sub(r"<[^>]+>", "", text).strip() for _tag, text in EMPTY.findall(_main(response.content.decode()))]
        context = response.context or {}
        if "object_list" in context and not len(context["object_list"]):
            found.append("(no rows in the list)")
        if path in KNOWN_EMPTY.get(username, ()):
            assert found, f"{username}: {path} shows rows now; take it off KNOWN_EMPTY"
            continue
        if found:
            empty[path] = found
    assert lists, f"{username} has no list page at all"
    assert empty == {}, f"{username} sees empty lists:\n" + "\n".join(f"  {p}: {w}" for p, w in empty.items())


@pytest.mark.django_db
def test_the_demo_service_user_sends_a_command_to_a_machine_of_their_city(demo_ten_minutes_on):
    from devices.models import DeviceCommand

    service = get_user_model().objects.get(username="service")
    client = Client()
    client.force_login(service)
    machine = Device.objects.restrict(service).filter(kind=Device.Kind.VENDING).order_by("pk").first()
    assert machine is not None
    before = DeviceCommand.objects.filter(device=machine, kind="reboot").count()

    response = client.post(
        reverse("devices:device-command", args=[machine.pk]), {"kind": "reboot", "confirmed": "1"}, follow=True
    )

    assert response.status_code == 200
    assert DeviceCommand.objects.filter(device=machine, kind="reboot").count() == before + 1
    outside = Device.objects.exclude(pk__in=Device.objects.restrict(service).values("pk")).first()
    refused = client.post(reverse("devices:device-command", args=[outside.pk]), {"kind": "reboot", "confirmed": "1"})
    assert refused.status_code in (403, 404)
