"""Each role does the work it exists for, in a real browser, in English and in Simplified Chinese:
it logs in through the login page (switching the language with the console's own switch), clicks
and types through the real pages, and the outcome is checked on the page and in the database.

clerk: a sale, a refund request above the clerk's limit, the shift closed with the counted cash;
store manager: a refund approved and another rejected; service staff: a restock confirmed, a fault
resolved, a command sent after its confirmation page; supplier: the dashboard; regional
administrator: a store given to a new clerk, a command to a machine of the fleet; finance: one
withdrawal approved, another rejected.

The clerk and the service staff work on phones, so their tasks also run at 390 × 844. Every step
leaves a screenshot, `$VAR_DIR/screenshots/<role>-<lang>-<step>.png`, and on a Chinese page no
English may be left in the visible text (the zh-hans check's own rule: operators' data aside)."""

import datetime
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from django.utils.translation import gettext

from tests.browser.helpers import (
    Watcher,
    choose_language,
    log_in,
    open_from_navigation,
    screenshot,
    till_cash_sale,
)
from tests.i18n.test_console_speaks_chinese import data_strings, english_left

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LANGUAGES = ["en", "zh-hans"]
SCREENS = {"desktop": (1280, 900), "phone": (390, 844)}


class Session:
    """One role at work in one language on one screen: a browser context logged in, a screenshot
    per step, and on a Chinese page a check that no English is left."""

    def __init__(self, browser, base, user, *, role, language, screen="desktop"):
        width, height = SCREENS[screen]
        self.base, self.language = base, language
        self.name = f"{role}-{language}" + ("" if screen == "desktop" else f"-{screen}")
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.watcher = Watcher(self.page)
        self.english = {}
        self.page.goto(f"{base}/staff/login/")
        choose_language(self.page, language)
        log_in(self.page, base, user.username)
        assert self.page.get_attribute("html", "lang") == language

    def step(self, name: str) -> None:
        self.page.wait_for_load_state()
        screenshot(self.page, f"{self.name}-{name}")
        if self.language != "en":
            html = self.page.content()
            left = english_left(html, []) and english_left(html, data_strings())  # data read only if needed
            if left:
                self.english[name] = left

    def say(self, message: str, **values) -> str:
        """The interface's text in this session's language."""
        with translation.override(self.language):
            return gettext(message) % values if values else gettext(message)

    def messages(self) -> str:
        return self.page.inner_text("main .messages") if self.page.locator("main .messages").count() else ""

    def close(self) -> None:
        self.context.close()
        assert self.watcher.problems == [], self.watcher.problems
        assert self.english == {}, f"English left on the Chinese pages: {self.english}"


@pytest.fixture
def work(browser, asgi_server):
    sessions = []

    def start(user, **kwargs):
        session = Session(browser, asgi_server.url, user, **kwargs)
        sessions.append(session)
        return session

    yield start
    for session in sessions:
        session.close()


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_clerk_sells_asks_for_a_refund_and_closes_the_shift(work, world, language, screen):
    from orders.models import Order, OrderStatus
    from staff.models import RefundApproval, Shift

    me = work(world.clerk, role="clerk", language=language, screen=screen)
    page = me.page
    open_from_navigation(page, "staff:cashier")
    me.step("till")
    till_cash_sale(page, opening_float="200.00", description="Key cutting", amount="80.00", tendered="100.00")
    assert me.say("Collected %(amount)s. Change: %(change)s.", amount="80.00", change="20.00") in me.messages()
    with translation.override(language):
        assert page.inner_text("#order-status") == str(OrderStatus.PAID.label)
    order = Order.objects.get(site=world.east_store, total=Decimal("80.00"))
    assert order.status == OrderStatus.PAID and order.paid_amount == Decimal("80.00")
    me.step("sale")

    page.fill("#refund-form #id_amount", "70.00")  # above the clerk's limit of 50 per refund
    page.fill("#refund-form #id_reason", "Wrong key cut")
    page.click("#refund-form button[type=submit]")
    page.wait_for_selector("main .messages .warning")
    approval = RefundApproval.objects.get(order=order)
    assert approval.status == RefundApproval.Status.PENDING and approval.amount == Decimal("70.00")
    assert page.inner_text("#refunded-amount") == "0.00"
    me.step("refund-request")

    open_from_navigation(page, "staff:cashier")
    assert page.inner_text("#expected-cash") == "280.00"
    page.fill("#id_counted_amount", "275.00")
    page.fill("#id_note", "A five short")
    page.click("#shift-panel form button[type=submit]")
    page.wait_for_selector("#open-shift")
    expected = me.say(
        "Shift closed: expected %(expected)s, counted %(counted)s, variance %(variance)s.",
        expected="280.00",
        counted="275.00",
        variance="-5.00",
    )
    assert expected in me.messages()
    shift = Shift.objects.get(clerk=world.clerk)
    assert shift.closed_at is not None
    assert (shift.expected_amount, shift.counted_amount, shift.variance) == (
        Decimal("280.00"),
        Decimal("275.00"),
        Decimal("-5.00"),
    )
    me.step("shift-close")


@pytest.mark.parametrize("language", LANGUAGES)
def test_store_manager_approves_one_refund_and_rejects_another(work, world, language):
    from orders.models import Refund
    from staff import counter
    from staff.models import RefundApproval
    from tests.factories import make_order

    asked = []
    for total in (Decimal("90.00"), Decimal("60.00")):
        order = make_order(site=world.east_store, total=total, paid=True)
        counter.refund_request(actor=world.clerk, order=order, amount=total, reason="Customer changed their mind")
        asked.append(RefundApproval.objects.get(order=order))
    approve, reject = asked

    me = work(world.manager, role="manager", language=language)
    page = me.page
    open_from_navigation(page, "staff:approval-list")
    me.step("approvals")
    page.click(f"tr[data-pk='{approve.pk}'] a")
    page.fill("#id_reason", "Goods back on the shelf")
    page.click("#approve")
    page.wait_for_selector("main .messages")
    assert me.say("Approved: %(amount)s refunded.", amount="90.00") in me.messages()
    with translation.override(language):
        assert page.inner_text("#approval-status") == str(RefundApproval.Status.APPROVED.label)
    me.step("approve")

    open_from_navigation(page, "staff:approval-list")
    page.click(f"tr[data-pk='{reject.pk}'] a")
    page.fill("#id_reason", "Opened and used")
    page.click("#reject")
    page.wait_for_selector("main .messages")
    assert me.say("Rejected; no money was moved.") in me.messages()
    me.step("reject")

    approve.refresh_from_db()
    reject.refresh_from_db()
    assert approve.status == RefundApproval.Status.APPROVED and approve.decided_by == world.manager
    assert reject.status == RefundApproval.Status.REJECTED and reject.decision_reason == "Opened and used"
    assert Refund.objects.get(order=approve.order).amount == Decimal("90.00")
    assert not Refund.objects.filter(order=reject.order).exists()


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("language", LANGUAGES)
def test_service_staff_restock_resolve_a_fault_and_send_a_command(work, world, language, screen):
    from core.services import scope_grant
    from devices import services as devices
    from devices.models import DeviceCommand, Fault
    from tests.factories import DeviceFactory, ProductFactory
    from vending.models import RestockTask, Slot
    from vending.restock import restock_task_create
    from vending.services import slot_create

    # Sending commands needs a "manage" grant (devices.services.console_command_allowed), which a
    # regional administrator gives the engineers of a region on the grants page.
    scope_grant(actor=None, user=world.service, target=world.east, action="change")
    machine = DeviceFactory(site=world.east_store, name="Lobby snacks")
    slot_create(device=machine, code="A1", product=ProductFactory(name="Sesame crackers"), capacity=20, par_level=8)
    task = restock_task_create(device=machine, actor=None)
    fault = devices.fault_open(device=machine, code="motor_jam", slot="A1", message="Spiral A1 stuck")

    me = work(world.service, role="service", language=language, screen=screen)
    page = me.page
    open_from_navigation(page, "vending:restock-list")
    page.click(f"main a[href$='/vending/restock/{task.pk}/']")
    page.wait_for_selector("#restock-form")
    line = task.lines.get()
    page.fill(f"input[name='line-{line.pk}']", str(line.planned - 1))  # one short in the van
    me.step("restock-form")
    page.click("#restock-form button[type=submit]")
    page.wait_for_selector("main .messages")
    task.refresh_from_db()
    assert task.status == RestockTask.Status.DONE
    assert Slot.objects.get(device=machine, code="A1").level.quantity == line.planned - 1
    me.step("restock-done")

    open_from_navigation(page, "devices:fault-list")
    me.step("faults")
    page.click(f"tr[data-pk='{fault.pk}'] a")
    page.click(f"#open-faults tr[data-fault='{fault.pk}'] button[type=submit]")
    page.wait_for_selector("main .messages")
    assert me.say("Marked as resolved.") in me.messages()
    fault.refresh_from_db()
    assert fault.resolved_at is not None and fault.resolved_by == world.service.username
    assert page.locator(f"#open-faults tr[data-fault='{fault.pk}']").count() == 0
    me.step("fault-resolved")

    page.click(".command-buttons form:has(input[value=reboot]) button[type=submit]")
    page.wait_for_selector("#confirm-command")
    assert page.is_visible("#offline-warning")  # the machine has never been heard from
    me.step("command-confirm")
    page.click("#confirm-command")
    page.wait_for_selector("main .messages")
    command = DeviceCommand.objects.get(device=machine)
    assert command.kind == "reboot" and command.status == DeviceCommand.Status.QUEUED
    assert page.locator(f"tr[data-command='{command.pk}']").count() == 1
    me.step("command-queued")
    assert Fault.objects.filter(device=machine, resolved_at__isnull=True).count() == 0


@pytest.mark.parametrize("language", LANGUAGES)
def test_supplier_reads_its_dashboard(work, world, language):
    from orders.models import OrderKind
    from tests.factories import DeviceFactory, ProductFactory, make_order
    from vending.services import slot_create

    machine = DeviceFactory(site=world.east_store, name="Station cooler")
    own = ProductFactory(name="Oolong tea", supplier=world.supplier)
    other = ProductFactory(name="Cola", supplier=world.other_supplier)
    slot_create(device=machine, code="B1", product=own, capacity=10, par_level=6)
    slot_create(device=machine, code="B2", product=other, capacity=10, par_level=6)
    sale = make_order(site=world.east_store, kind=OrderKind.VENDING, device=machine, total=Decimal("5.00"), paid=True)
    sale.lines.update(product=own)

    me = work(world.supplier_user, role="supplier", language=language)
    page = me.page
    open_from_navigation(page, "vending:supplier-dashboard")
    me.step("dashboard")
    assert page.locator(f"#supplier-stock tr[data-pk='{own.pk}']").count() == 1
    assert page.locator(f"#supplier-stock tr[data-pk='{other.pk}']").count() == 0
    assert "B1" in page.inner_text("#supplier-low") and "B2" not in page.inner_text("#supplier-low")
    assert "Oolong tea" in page.inner_text("#supplier-sales") and "Cola" not in page.content()


@pytest.mark.parametrize("language", LANGUAGES)
def test_regional_admin_gives_a_store_and_sends_a_command_to_the_fleet(work, world, language):
    from core.scoping import user_can_reach
    from devices.models import DeviceCommand
    from tests.factories import DeviceFactory, UserFactory

    new_clerk = UserFactory(role="clerk", username=f"new-clerk-{language}")
    cooler = DeviceFactory(site=world.east_store, name="Drinks cooler")

    me = work(world.regional, role="regional", language=language)
    page = me.page
    open_from_navigation(page, "staff:grant-users")
    page.click(f"main a[href$='/staff/grants/{new_clerk.pk}/']")
    page.select_option("#id_site", str(world.east_store.pk))
    me.step("grant-form")
    page.click("#grant-form button[type=submit]")
    page.wait_for_selector(f'tr[data-grant="site-{world.east_store.pk}"]')
    assert me.say("%(target)s was given.", target=str(world.east_store)) in me.messages()
    assert user_can_reach(new_clerk, world.east_store)
    me.step("granted")

    open_from_navigation(page, "devices:device-list")
    page.click(f"tr[data-device='{cooler.pk}'] a")
    form = page.locator(".command-buttons form:has(input[value=set_temperature])")
    form.locator("input[name=temperature]").fill("5")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#confirm-command")
    me.step("command-confirm")
    page.click("#confirm-command")
    page.wait_for_selector("main .messages")
    command = DeviceCommand.objects.get(device=cooler)
    assert command.kind == "set_temperature" and command.payload == {"temperature": "5"}
    assert command.status == DeviceCommand.Status.QUEUED
    me.step("command-queued")


@pytest.mark.parametrize("language", LANGUAGES)
def test_finance_approves_one_withdrawal_and_rejects_another(work, world, language):
    from accounting import accruals, withdrawals
    from accounting.models import Withdrawal
    from tests.accounting.builders import accrual_for

    world.partner.payout_account, world.partner.payout_name = "6222000011112222", "Own partner Ltd"
    world.partner.save()
    accrual_for(world.partner, total=Decimal("800.00"))
    accruals.accruals_release(now=timezone.now() + datetime.timedelta(days=30))
    approve, reject = (
        withdrawals.withdrawal_request(partner=world.partner, amount=amount, actor=world.partner_user)
        for amount in (Decimal("30.00"), Decimal("20.00"))
    )

    me = work(world.finance, role="finance", language=language)
    page = me.page
    open_from_navigation(page, "accounting:withdrawal-list")
    me.step("withdrawals")
    page.click(f"main a:text-is('{approve.number}')")
    page.click("button[data-action=approve]")
    page.wait_for_selector("[data-status=approved]")
    me.step("approved")

    open_from_navigation(page, "accounting:withdrawal-list")
    page.click(f"main a:text-is('{reject.number}')")
    page.fill("form:has(button[data-action=reject]) [name=reason]", "Payout account does not match the contract")
    page.click("button[data-action=reject]")
    page.wait_for_selector("[data-status=rejected]")
    me.step("rejected")

    approve.refresh_from_db()
    reject.refresh_from_db()
    assert approve.status == Withdrawal.Status.APPROVED
    assert reject.status == Withdrawal.Status.REJECTED and reject.reason.startswith("Payout account")
