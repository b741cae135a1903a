"""The rough edges of the console, tried through its pages: a constraint's friendly message by its
field (mapped once for every model) with the other fields' errors kept; a refused shift form that
keeps what was typed and says why; notifications shown once-escaped with a date that does not run
into the sentence, and "mark all as read"; commands offered by device kind and confirmed first
(with a warning for an offline machine); the product import's template and codes; a clerk's only
store chosen for them."""

import csv
import io

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.urls import reverse

from core.constraints import constraint_error
from core.selectors import notification_list_for
from core.services import notification_send
from devices.models import Device, DeviceCommand
from staff.models import StaffProfile
from tests.factories import CategoryFactory, DeviceFactory, SiteFactory

pytestmark = pytest.mark.django_db


def test_add_clerk_says_what_is_wrong_with_every_field_and_never_the_constraint_name(world, client):
    client.force_login(world.manager)
    response = client.post(
        reverse("staff:clerk-create"),
        {
            "name": "Wang Wei",
            "phone": "not a phone",
            "role": "clerk",
            "sites": [world.east_store.pk],
            "send_by": "sms",
            "can_refund": "on",
            "refund_limit": "-5",
            "reports": "own",
        },
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert len(errors["refund_limit"]) == 1 and errors["refund_limit"][0].endswith("cannot be negative.")
    assert "phone" in errors  # not dropped because another field failed
    page = response.content.decode()
    assert "Constraint" not in page and "staff_refund_limit_not_negative" not in page
    assert not StaffProfile.objects.filter(user__first_name="Wang").exists()


def test_a_database_refusal_becomes_the_same_friendly_message():
    error = constraint_error(IntegrityError('new row violates check constraint "staff_refund_limit_not_negative"'))
    assert isinstance(error, ValidationError)
    (field,) = error.message_dict
    assert field == "refund_limit" and "negative" in error.message_dict[field][0]
    unknown = constraint_error(IntegrityError("something else"))
    assert "conflicts" in " ".join(unknown.messages)


def test_a_refused_shift_form_keeps_the_float_and_says_why(world, client):
    client.force_login(world.clerk)
    response = client.post(reverse("staff:shift-open"), {"site": world.east_store.pk, "opening_float": "-20"})
    assert response.status_code == 200
    form = response.context["open_form"]
    assert "opening_float" in form.errors
    page = response.content.decode()
    assert 'value="-20"' in page and "greater than or equal to 0" in page
    response = client.post(reverse("staff:shift-open"), {"site": world.east_store.pk, "opening_float": "200"})
    assert response.status_code == 302


def test_notifications_are_escaped_once_dated_plainly_and_all_marked_read(world, client):
    site = SiteFactory(region=world.east, name="Jing'an Store")
    device = DeviceFactory(site=site, name="Lobby VM")
    for _n in range(2):
        notification_send(template="device_offline", recipient=world.manager, context={"device": device})
    client.force_login(world.manager)
    page = client.get(reverse("core:notification-list")).content.decode()
    assert "Jing&#x27;an" in page and "&amp;#x27;" not in page
    assert "a.m.." not in page and "p.m.." not in page
    assert 'id="read-all"' in page
    response = client.post(reverse("core:notification-read-all"), follow=True)
    assert "2 notifications marked as read." in response.content.decode()
    assert not notification_list_for(recipient=world.manager).filter(read_at__isnull=True).exists()
    assert 'id="read-all"' not in response.content.decode()


def test_commands_are_offered_by_device_kind_and_confirmed_with_an_offline_warning(world, client):
    locker = DeviceFactory(site=world.east_store, kind=Device.Kind.LOCKER, state=Device.State.ONLINE)
    machine = DeviceFactory(site=world.east_store, kind=Device.Kind.VENDING, state=Device.State.OFFLINE)
    client.force_login(world.regional)
    offered = client.get(reverse("devices:device-detail", args=[locker.pk])).context["command_kinds"]
    assert "dispense" not in [kind for kind, _label in offered] and "open_door" in [kind for kind, _ in offered]
    url = reverse("devices:device-command", args=[locker.pk])
    assert client.post(url, {"kind": "dispense", "slot": "3", "confirmed": "1"}).status_code == 403
    url = reverse("devices:device-command", args=[machine.pk])
    asked = client.post(url, {"kind": "reboot"})
    assert asked.status_code == 200 and 'id="offline-warning"' in asked.content.decode()
    assert not DeviceCommand.objects.filter(device=machine).exists()  # nothing sent before the yes
    sent = client.post(url, {"kind": "reboot", "confirmed": "1"})
    assert sent.status_code == 302
    assert DeviceCommand.objects.get(device=machine).kind == "reboot"
    online = client.post(reverse("devices:device-command", args=[locker.pk]), {"kind": "open_door", "slot": "3"})
    assert 'id="offline-warning"' not in online.content.decode()


def test_the_product_import_offers_a_template_and_lists_the_codes(world, client):
    category = CategoryFactory(code="drinks")
    client.force_login(world.admin)
    page = client.get(reverse("catalog:product-import")).content.decode()
    assert world.supplier.code in page and "drinks" in page and 'id="import-template"' in page
    response = client.get(reverse("catalog:product-import-template"))
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, example = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert header[:2] == ["sku", "name"]
    row = dict(zip(header, example, strict=True))
    assert row["category"] == category.code or row["category"]
    from catalog.models import Supplier

    assert Supplier.objects.filter(code=row["supplier"]).exists()
    assert client.get(reverse("catalog:product-import-template"), {"format": "xlsx"}).status_code == 200


def test_a_clerk_with_one_store_finds_it_chosen(world, client):
    client.force_login(world.clerk)
    till = client.get(reverse("staff:cashier"))
    assert till.context["open_form"].initial["site"] == world.east_store.pk
    world.clerk.user_permissions.add(*_permissions("pickup.add_pickupcode"))
    issue = client.get(reverse("pickup:issue"))
    assert issue.status_code == 200
    assert issue.context["new_form"].initial["site"] == world.east_store.pk
    assert f'<option value="{world.east_store.pk}" selected>' in issue.content.decode()


def _permissions(*names):
    from django.contrib.auth.models import Permission

    return [Permission.objects.get(content_type__app_label=n.split(".")[0], codename=n.split(".")[1]) for n in names]


def test_wide_tables_stay_within_the_page_and_times_read_year_first(world, client, settings):
    """A message with a long link breaks inside its column; the clerk table scrolls inside itself
    with the clerk's name kept in view; times in English read 2026-12-06 15:20, not "Dec. 6, 2026,
    3:20 p.m." over five lines; the performance page's date boxes say the period it shows."""
    import datetime

    from django.utils import timezone

    from core.models import OutboxMessage

    link = "https://example.com/pickup/qr/" + "x" * 120
    message = OutboxMessage.objects.create(channel="sms", address="13900000011", body=f"Your code: {link}")
    at = timezone.make_aware(datetime.datetime(2026, 12, 6, 15, 20))
    OutboxMessage.objects.filter(pk=message.pk).update(created_at=at)
    client.force_login(world.admin)
    page = client.get(reverse("core:outbox"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<td data-col="body" class="long">' in page
    assert '<td data-col="address">13900000011</td>' in page  # a short field is left as it is
    when = timezone.localtime(at).strftime("%Y-%m-%d %H:%M")
    assert f'<td data-col="created_at" class="when">{when}</td>' in page and "p.m." not in page

    from orders.models import WebhookDelivery
    from tests.orders.builders import partner_in

    WebhookDelivery.objects.create(
        client=partner_in(world.east), event="ping", payload={}, url=link, last_error=f"ConnectionError: {link}"
    )
    page = client.get(reverse("orders:webhook-delivery-list"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<td data-col="last_error" class="long" translate="no">ConnectionError' in page

    client.force_login(world.manager)
    page = client.get(reverse("staff:performance"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<div class="table-scroll"><table class="data sticky-first" id="performance">' in page
    today = timezone.localdate()
    assert f'value="{today.replace(day=1):%Y-%m-%d}"' in page and f'value="{today:%Y-%m-%d}"' in page


def test_an_empty_list_says_why_and_what_to_do_next(world, client):
    """Nothing yet: the page's first action is offered ("New API partner"). Nothing matching the
    filters: said so, with the way back to the whole list."""
    client.force_login(world.admin)
    page = client.get(reverse("orders:partner-list")).content.decode()
    assert "Nothing here yet." in page
    assert f'<a href="{reverse("orders:partner-create")}" id="empty-action">New API partner</a>' in page
    page = client.get(reverse("orders:webhook-delivery-list"), {"event": "no.such.event"}).content.decode()
    assert "Nothing matches these filters." in page
    assert f'<a href="{reverse("orders:webhook-delivery-list")}" id="clear-filters">' in page
    page = client.get(reverse("orders:webhook-delivery-list"), {"ordering": "-created_at"}).content.decode()
    assert "Nothing matches these filters." not in page and "Nothing here yet." in page  # sorting is no filter
