"""In a real browser: a clerk logs in, opens a shift, collects a cash payment with change, and
requests a refund above their limit; the store manager watches the collection arrive live, sees
the request, approves it, and the refund appears in the order's operation log."""

from decimal import Decimal

import pytest

from tests.browser.helpers import Watcher, log_in, till_cash_sale

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_clerk_collects_cash_and_the_manager_approves_a_refund_above_the_limit(browser, asgi_server, world):
    from orders.models import Order, Refund
    from staff.models import RefundApproval

    base = asgi_server.url
    manager_context = browser.new_context()
    manager = manager_context.new_page()
    manager_watch = Watcher(manager)
    log_in(manager, base, world.manager.username)
    manager.goto(f"{base}/staff/monitor/")
    manager.wait_for_selector("body[data-feed-live=on]")

    clerk_context = browser.new_context(viewport={"width": 1024, "height": 768})  # a tablet at the till
    clerk = clerk_context.new_page()
    clerk_watch = Watcher(clerk)
    log_in(clerk, base, world.clerk.username)
    clerk.goto(f"{base}/staff/cashier/")
    till_cash_sale(clerk, opening_float="200.00", description="Coffee beans", amount="80.00", tendered="100.00")
    clerk.wait_for_selector("text=Change: 20.00")
    assert clerk.inner_text("#order-status") == "Paid"
    order = Order.objects.get(site=world.east_store, total=Decimal("80.00"))

    # The manager's feed shows the collection without a reload.
    manager.wait_for_selector(f"#money-feed tr[data-live='1']:has-text('{order.number}')")

    clerk.fill("#refund-form #id_amount", "70.00")  # the clerk's limit is 50 per refund
    clerk.fill("#refund-form #id_reason", "Customer returned unopened goods")
    clerk.click("#refund-form button[type=submit]")
    clerk.wait_for_selector("text=sent for approval")
    assert not Refund.objects.filter(order=order).exists()
    assert clerk.inner_text("#refunded-amount") == "0.00"

    approval = RefundApproval.objects.get(order=order)
    manager.goto(f"{base}/staff/approvals/?status=pending")
    manager.click(f"tr[data-pk='{approval.pk}'] a")
    manager.fill("#id_reason", "Checked the goods")
    manager.click("#approve")
    manager.wait_for_selector("text=70.00 refunded")
    assert manager.inner_text("#approval-status") == "Approved"

    clerk.reload()
    log = clerk.inner_text("#order-log")
    assert "Refund requested" in log and "Refund approved" in log and "Checked the goods" in log
    assert clerk.inner_text("#refunded-amount") == "70.00"
    assert Refund.objects.get(order=order).amount == Decimal("70.00")
    assert clerk_watch.problems == [] and manager_watch.problems == []
    clerk_context.close()
    manager_context.close()
