"""The permission matrix: for every role and every console page and API endpoint, whether it is
allowed — one table, every row checked. A page or endpoint without a row fails the test, and so
does a row for something that no longer exists.

"Allowed" means the role gets past the permission checks (any answer but 401/403 and, for pages,
not the login redirect; 404 for an id that does not exist counts as allowed). "Denied" means 403
for a signed-in role, 401/403 or the login page for anonymous callers. Scoping (which rows) is
proven separately in test_scoping_generated.py.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from staff.roles import CLERK as C
from staff.roles import FINANCE as F
from staff.roles import PARTNER as P
from staff.roles import PLATFORM_ADMIN as A
from staff.roles import REGIONAL_ADMIN as R
from staff.roles import SERVICE_STAFF as S
from staff.roles import STORE_MANAGER as M
from staff.roles import SUPPLIER as U

ROLES = ("anonymous", A, R, M, C, S, U, F, P)
ALL = frozenset(ROLES)
STAFF = ALL - {"anonymous"}
NONE = frozenset()


def only(*roles):
    return frozenset(roles)


# (url name, method) -> roles allowed.
MATRIX = {
    # Accounting: finance acts, regional administrators read their regions' partners.
    ("accounting:finance", "GET"): only(A, R, F),
    ("accounting:partner-list", "GET"): only(A, R, F),
    ("accounting:partner-create", "GET"): only(A, F),
    ("accounting:partner-create", "POST"): only(A, F),
    ("accounting:partner-detail", "GET"): only(A, R, F),
    ("accounting:partner-edit", "GET"): only(A, F),
    ("accounting:partner-edit", "POST"): only(A, F),
    ("accounting:partner-statement", "GET"): only(A, R, F),
    ("accounting:rule-list", "GET"): only(A, R, F),
    ("accounting:rule-create", "GET"): only(A, F),
    ("accounting:rule-create", "POST"): only(A, F),
    ("accounting:rule-edit", "GET"): only(A, R, F),
    ("accounting:rule-edit", "POST"): only(A, R, F),  # R reads; a change needs change_sharingrule (403)
    ("accounting:accrual-list", "GET"): only(A, R, F),
    ("accounting:withdrawal-list", "GET"): only(A, R, F),
    ("accounting:withdrawal-detail", "GET"): only(A, R, F),
    ("accounting:withdrawal-act", "POST"): only(A, F),
    ("accounting:bank-file", "POST"): only(A, F),
    # The revenue partner portal: the partner's own users (administrators see "not linked").
    ("accounting:portal", "GET"): only(A, P),
    ("accounting:portal-withdrawals", "GET"): only(A, P),
    ("accounting:portal-withdrawals", "POST"): only(A, P),
    ("accounting:portal-statement", "GET"): only(A, P),
    ("anomalyrule-detail", "DELETE"): only(A, R),
    ("anomalyrule-detail", "GET"): only(A, R, M),
    ("anomalyrule-detail", "PATCH"): only(A, R),
    ("anomalyrule-list", "GET"): only(A, R, M),
    ("anomalyrule-list", "POST"): only(A, R),
    ("asset-detail", "GET"): only(A, R, M),
    ("asset-list", "GET"): only(A, R, M),
    ("asset-rent", "POST"): only(A, R),
    ("auditentry-detail", "GET"): only(A, R),
    ("auditentry-list", "GET"): only(A, R),
    ("brand-detail", "GET"): only(A, R, M),
    ("bulkitem-detail", "GET"): only(A, R, M),
    ("bulkitem-list", "GET"): only(A, R, M),
    ("bulkitem-rent", "POST"): only(A, R),
    ("brand-list", "GET"): only(A, R, M),
    # Delivery orders (docs/adr/0032): the administrators of their regions; the platforms' file
    # layouts are shared, so only the platform administrator edits them.
    ("fulfilment:delivery-new", "GET"): only(A, R),
    ("fulfilment:delivery-edit", "GET"): only(A, R),
    ("fulfilment:delivery-release", "POST"): only(A, R),
    ("fulfilment:delivery-cancel", "POST"): only(A, R),
    ("fulfilment:held-list", "GET"): only(A, R),
    ("fulfilment:import", "GET"): only(A, R),
    ("fulfilment:mapping-list", "GET"): only(A, R),
    ("fulfilment:mapping-edit", "GET"): only(A),
    ("partner-delivery-orders-detail", "GET"): NONE,
    ("partner-delivery-orders-list", "GET"): NONE,
    ("partner-delivery-orders-list", "POST"): NONE,
    ("catalog:product-create", "GET"): only(A),
    # Picking and packing delivery orders by scans: the warehouse people (service staff) and admins.
    ("fulfilment:packing-home", "GET"): only(A, R, S),
    ("fulfilment:packing-list", "GET"): only(A, R, S),
    ("fulfilment:packing-order", "GET"): only(A, R, S),
    ("fulfilment:packing-start", "POST"): only(A, R, S),
    ("fulfilment:packing-scan", "POST"): only(A, R, S),
    ("catalog:product-detail", "GET"): only(A, R, M, C, S, U),
    ("catalog:product-edit", "GET"): only(A),
    ("catalog:product-import", "GET"): only(A),
    ("catalog:product-import-template", "GET"): only(A),
    ("catalog:product-list", "GET"): only(A, R, M, C, S, U),
    ("category-detail", "GET"): only(A, R, M, C, U),
    ("category-list", "GET"): only(A, R, M, C, U),
    ("compartment-detail", "GET"): only(A, R, M, S),
    ("compartment-list", "GET"): only(A, R, M, S),
    ("compartment-out-of-service", "POST"): only(A, R),
    ("compartment-reassign", "POST"): only(A, R),
    ("compartment-reopen", "POST"): only(A, R),
    ("lockerorder-detail", "GET"): only(A, R, M, C, S),
    ("lockerorder-list", "GET"): only(A, R, M, C, S),
    ("lockerorder-list", "POST"): only(A, R, M, C),
    ("pickup-orders-detail", "GET"): only(A, R, M, C),
    ("pickup-orders-list", "GET"): only(A, R, M, C),
    ("pickup-orders-list", "POST"): only(A, R, M, C),
    ("core:audit-list", "GET"): only(A, R),
    # Reconciliation and the journal export (ADR 22): finance works them, regional administrators look.
    ("accounting:recon-summary", "GET"): only(A, R, F),
    ("accounting:recon-item-list", "GET"): only(A, R, F),
    ("accounting:recon-item-detail", "GET"): only(A, R, F),
    ("accounting:recon-item-detail", "POST"): only(A, F),
    ("accounting:statement-list", "GET"): only(A, R, F),
    ("accounting:statement-detail", "GET"): only(A, R, F),
    ("accounting:statement-upload", "GET"): only(A, F),
    ("accounting:statement-upload", "POST"): only(A, F),
    ("accounting:statement-fetch-stripe", "POST"): only(A, F),
    ("accounting:journal", "GET"): only(A, F),
    ("accounting:journal-accounts", "POST"): only(A, F),
    ("core:dashboard", "GET"): STAFF,
    ("core:dashboard-cards", "GET"): STAFF,
    # A user's own background exports; anyone else's job is a 404 (tests/orders/test_order_lists.py).
    ("core:export-job", "GET"): STAFF,
    ("core:export-status", "GET"): STAFF,
    ("core:export-download", "GET"): STAFF,
    ("core:notification-list", "GET"): STAFF,
    ("core:notification-read", "POST"): STAFF,
    ("core:notification-read-all", "POST"): STAFF,
    ("core:region-list", "GET"): only(A, R, F),
    ("core:region-settings", "GET"): only(A, R),
    ("core:region-settings-index", "GET"): only(A, R),
    ("core:site-detail", "GET"): only(A, R, M, C, S, F),
    ("core:site-list", "GET"): only(A, R, M, C, S, F),
    ("counter-order-collect", "POST"): only(A, R, M, C),
    ("counter-order-detail", "GET"): only(A, R, M, C, F),
    ("counter-order-list", "GET"): only(A, R, M, C, F),
    ("counter-order-list", "POST"): only(A, R, M, C),
    ("counter-order-refund", "POST"): only(A, R, M, C),
    ("counter-order-products", "GET"): only(A, R, M, C),
    ("counter-order-scan", "GET"): only(A, R, M, C),
    ("counter-order-void", "POST"): only(A, R, M, C),
    ("counter-order-return-line", "POST"): only(A, R, M, C),
    ("till-member-enrol", "POST"): only(A, R, M, C),
    ("till-member-points", "POST"): only(A, R, M, C),
    ("till-settings-hours", "POST"): only(A, R, M, C),
    ("till-offline-sale-list", "GET"): only(A, R, M, C, F),
    ("till-offline-sale-list", "POST"): only(A, R, M, C),
    ("till-offline-sale-detail", "GET"): only(A, R, M, C, F),
    ("till-offline-sale-snapshot", "GET"): only(A, R, M, C),
    ("till-offline-sale-resolve", "POST"): only(A, R, M),
    ("clerk-performance-list", "GET"): only(A, R, M, C, F),
    # The customers' own API: a customer token only, never a staff session; signing in is open.
    ("customer-locker-bookings-banks", "GET"): NONE,
    ("customer-locker-bookings-cancel", "POST"): NONE,
    ("customer-locker-bookings-detail", "GET"): NONE,
    ("customer-locker-bookings-dropoff-code", "POST"): NONE,
    ("customer-locker-bookings-list", "GET"): NONE,
    ("customer-locker-bookings-list", "POST"): NONE,
    ("customer-locker-bookings-scan", "POST"): NONE,
    ("customer-machine-buy", "POST"): NONE,
    ("customer-machine-scan", "POST"): NONE,
    ("customer-pay-code-list", "POST"): NONE,
    ("customer-pickups-list", "GET"): NONE,
    ("customer-pickups-resend", "POST"): NONE,
    ("customer-recharges-detail", "GET"): NONE,
    ("customer-recharges-list", "GET"): NONE,
    ("customer-recharges-refund", "POST"): NONE,
    ("customer-rentals-detail", "GET"): NONE,
    ("customer-rentals-list", "GET"): NONE,
    ("customer-rentals-list", "POST"): NONE,
    ("customer-rentals-renew", "POST"): NONE,
    ("customer-rentals-scan", "POST"): NONE,
    # Machines: a device token only.
    ("device-self-app-code", "GET"): NONE,
    ("device-slots-list", "GET"): NONE,
    ("device-vends-cancel", "POST"): NONE,
    ("device-vends-detail", "GET"): NONE,
    ("device-vends-pay", "POST"): NONE,
    # API partners: a partner key only; their console pages are the administrators'.
    ("partner-me-list", "GET"): NONE,
    ("partner-locker-orders-detail", "GET"): NONE,
    ("partner-locker-orders-list", "GET"): NONE,
    ("partner-locker-orders-list", "POST"): NONE,
    ("partner-pickup-orders-detail", "GET"): NONE,
    ("partner-pickup-orders-list", "GET"): NONE,
    ("partner-pickup-orders-list", "POST"): NONE,
    ("partner-orders-detail", "GET"): NONE,
    ("partner-orders-list", "GET"): NONE,
    ("partner-webhook-deliveries-list", "GET"): NONE,
    ("partner-webhook-test-list", "POST"): NONE,
    ("orders:partner-create", "GET"): only(A, R),
    ("orders:partner-detail", "GET"): only(A, R),
    ("orders:partner-edit", "GET"): only(A, R),
    ("orders:partner-key-new", "GET"): only(A, R),
    ("orders:partner-list", "GET"): only(A, R),
    ("orders:partner-ping", "GET"): only(A, R),
    ("orders:partner-revoke", "GET"): only(A, R),
    ("orders:webhook-delivery-detail", "GET"): only(A, R),
    ("orders:webhook-delivery-detail", "POST"): only(A, R),
    ("orders:webhook-delivery-list", "GET"): only(A, R),
    # Messages of every region with their secrets: the platform's only.
    ("core:outbox", "GET"): only(A),
    ("customer-coupons-list", "GET"): NONE,
    ("customer-feedback-list", "GET"): NONE,
    ("customer-feedback-list", "POST"): NONE,
    ("customer-me-list", "GET"): NONE,
    ("customer-orders-detail", "GET"): NONE,
    ("customer-orders-list", "GET"): NONE,
    ("customer-points-list", "GET"): NONE,
    ("customer-recharge-list", "POST"): NONE,
    ("customer-sign-in-list", "POST"): ALL,
    ("customer-sign-in-verify", "POST"): ALL,
    ("customer-statement-list", "GET"): NONE,
    ("customer-shipments-list", "GET"): NONE,
    ("customer-shipments-detail", "GET"): NONE,
    ("customer-returns-list", "GET"): NONE,
    ("customer-returns-list", "POST"): NONE,
    ("customer-returns-detail", "GET"): NONE,
    # Shipping and returns of delivery orders (docs/adr/0034): the regions' administrators; the
    # carriers' tracking callback is signed by the carrier, not a session.
    ("fulfilment:shipping-list", "GET"): only(A, R),
    ("fulfilment:shipping-labels", "POST"): only(A, R),
    ("fulfilment:shipping-ship", "POST"): only(A, R),
    ("fulfilment:carrier-push", "POST"): ALL,
    ("fulfilment:return-list", "GET"): only(A, R),
    ("fulfilment:return-report", "GET"): only(A, R),
    ("fulfilment:return-create", "GET"): only(A, R),
    ("fulfilment:return-create", "POST"): only(A, R),
    ("fulfilment:return-detail", "GET"): only(A, R),
    ("fulfilment:return-scan", "POST"): only(A, R),
    ("fulfilment:return-inspect", "POST"): only(A, R),
    ("customer-detail", "GET"): only(A, R, M, C, F),
    ("customer-list", "GET"): only(A, R, M, C, F),
    ("device-commands", "POST"): only(A, R),
    ("device-detail", "DELETE"): only(A, R),
    ("device-detail", "GET"): only(A, R, M, S),
    ("device-detail", "PATCH"): only(A, R, S),
    # The machines' own API: device tokens only, never a staff session.
    ("device-dex-list", "POST"): NONE,
    ("device-list", "GET"): only(A, R, M, S),
    ("device-list", "POST"): only(A, R),
    ("device-pickup-confirm", "POST"): NONE,
    ("device-pickup-list", "POST"): NONE,
    ("device-pickup-phone", "POST"): NONE,
    ("device-rotate-token", "POST"): only(A, R),
    ("device-self-acknowledge", "POST"): NONE,
    ("device-self-commands", "GET"): NONE,
    ("device-self-events", "POST"): NONE,
    ("device-self-heartbeat", "POST"): NONE,
    ("device-self-pair", "POST"): ALL,  # a new machine pairs by its serial number
    ("device-self-result", "POST"): NONE,
    ("device-vends-list", "POST"): NONE,
    ("devicecommand-detail", "GET"): only(A, R, M, S),
    ("devicecommand-list", "GET"): only(A, R, M, S),
    ("devices:command-list", "GET"): only(A, R, M, S),
    ("devices:device-command", "POST"): only(A, R, S),
    ("devices:command-cancel", "POST"): only(A, R, S),
    ("devices:device-detail", "GET"): only(A, R, M, S),
    ("devices:device-list", "GET"): only(A, R, M, S),
    ("devices:fault-list", "GET"): only(A, R, M, S),
    ("devices:fault-resolve", "POST"): only(A, R, S),
    ("dexread-detail", "GET"): only(A, R, S),
    ("dexread-list", "GET"): only(A, R, S),
    ("dexread-list", "POST"): only(A, R, S),
    ("fault-detail", "GET"): only(A, R, M, S),
    ("fault-list", "GET"): only(A, R, M, S),
    ("fault-resolve", "POST"): only(A, R),
    ("gateway:dex-detail", "GET"): only(A, R, S),
    ("gateway:dex-list", "GET"): only(A, R, S),
    ("gateway:dex-upload", "GET"): only(A, R, S),
    ("lease-detail", "GET"): only(A, R, M),
    ("lease-bulk-return", "POST"): only(A, R),
    ("lease-extend", "POST"): only(A, R),
    ("lease-list", "GET"): only(A, R, M),
    ("lease-return-scan", "POST"): only(A, R),
    ("leasing:active", "GET"): only(A, R, M),
    ("leasing:asset-list", "GET"): only(A, R, M),
    ("leasing:availability", "GET"): only(A, R, M),
    ("leasing:customer-history", "GET"): only(A, R, M),
    ("leasing:plan-create", "GET"): only(A, R),
    ("leasing:plan-edit", "GET"): only(A, R, M),
    ("leasing:plan-list", "GET"): only(A, R, M),
    ("leasing:lease-list", "GET"): only(A, R, M),
    ("lockers:bank-detail", "GET"): only(A, R, M, S),
    ("lockers:compartment-list", "GET"): only(A, R, M, S),
    ("lockers:order-new", "GET"): only(A, R, M, C),
    ("lockers:return-done", "POST"): only(A, R, S),
    ("lockers:return-list", "GET"): only(A, R, S),
    ("lockers:return-open", "POST"): only(A, R, S),
    ("members:coupon-create", "GET"): only(A, R),
    ("members:coupon-list", "GET"): only(A, R, M),
    ("members:customer-detail", "GET"): only(A, R, M, C, F),
    ("members:customer-list", "GET"): only(A, R, M, C, F),
    ("members:feedback-detail", "GET"): only(A, R, M),
    ("members:feedback-detail", "POST"): only(A, R, M),
    ("members:feedback-list", "GET"): only(A, R, M),
    ("members:promotion-create", "GET"): only(A, R),
    ("members:promotion-list", "GET"): only(A, R, M),
    ("my-notification-detail", "GET"): STAFF,
    ("my-notification-list", "GET"): STAFF,
    ("order-detail", "GET"): only(A, R, M, C, F),
    ("order-list", "GET"): only(A, R, M, C, F),
    ("orders:order-detail", "GET"): only(A, R, M, C, F),
    ("orders:order-export", "GET"): only(A, R, M, C, F),
    ("orders:order-list", "GET"): only(A, R, M, C, F),
    ("payment-detail", "GET"): only(A, R, M, C, F),
    ("payment-list", "GET"): only(A, R, M, C, F),
    ("pickup:counter", "GET"): only(A, R, M, C),
    ("pickup:issue", "GET"): only(A, R, M, C),
    ("pickup:queue", "GET"): only(A, R, M, C),
    ("pickup:qr", "GET"): ALL,  # the signed link in the customer's message
    ("pickup:regenerate", "POST"): only(A, R, M, C),
    ("pickup:put-back", "POST"): only(A, R, M, C),
    ("product-detail", "DELETE"): only(A),
    ("product-detail", "GET"): only(A, R, M, C, S, U),
    ("product-detail", "PATCH"): only(A),
    ("product-list", "GET"): only(A, R, M, C, S, U),
    ("product-list", "POST"): only(A),
    ("refund-detail", "GET"): only(A, R, M, C, F),
    ("refund-list", "GET"): only(A, R, M, C, F),
    ("refundapproval-approve", "POST"): only(A, R, M),
    ("refundapproval-detail", "GET"): only(A, R, M, C, F),
    ("refundapproval-list", "GET"): only(A, R, M, C, F),
    ("refundapproval-reject", "POST"): only(A, R, M),
    ("region-detail", "GET"): only(A, R, F),
    ("region-list", "GET"): only(A, R, F),
    ("shift-close", "POST"): only(A, R, M, C),
    ("shift-detail", "GET"): only(A, R, M, C, F),
    ("shift-list", "GET"): only(A, R, M, C, F),
    ("shift-list", "POST"): only(A, R, M, C),
    ("site-detail", "DELETE"): only(A),
    ("site-detail", "GET"): only(A, R, M, C, S, F),
    ("site-detail", "PATCH"): only(A, R),
    ("site-list", "GET"): only(A, R, M, C, S, F),
    ("site-list", "POST"): only(A, R),
    ("restock-plan-list", "GET"): only(A, R, S),
    ("restock-route-detail", "GET"): only(A, R, S),
    # Demand forecasts (ADR 29): those who plan restocks.
    ("forecast-detail", "GET"): only(A, R, S),
    ("forecast-list", "GET"): only(A, R, S),
    ("forecasts:index", "GET"): only(A, R, S),
    ("forecasts:machine", "GET"): only(A, R, S),
    ("forecasts:product", "GET"): only(A, R, S),
    ("restock-route-list", "GET"): only(A, R, S),
    ("slot-detail", "GET"): only(A, R, S),
    ("slot-list", "GET"): only(A, R, S),
    ("staff:alert-ack", "POST"): only(A, R, M),
    ("staff:alert-list", "GET"): only(A, R, M, F),
    ("staff:approval-detail", "GET"): only(A, R, M, C, F),
    ("staff:approval-detail", "POST"): only(A, R, M),
    ("staff:approval-list", "GET"): only(A, R, M, C, F),
    ("staff:cashier", "GET"): only(A, R, M, C),
    ("staff:cashier-order", "GET"): only(A, R, M, C),
    # The till's service worker: a script of static file names, no data (ADR 20).
    ("staff:till-sw", "GET"): ALL,
    ("staff:offline-sale-list", "GET"): only(A, R, M, C, F),
    ("staff:offline-sale-detail", "GET"): only(A, R, M, C, F),
    ("staff:offline-sale-detail", "POST"): only(A, R, M),
    ("staff:clerk-activity", "GET"): only(A, R, M),
    ("staff:clerk-create", "GET"): only(A, R, M),
    ("staff:clerk-detail", "GET"): only(A, R, M),
    ("staff:clerk-detail", "POST"): only(A, R, M),
    ("staff:clerk-list", "GET"): only(A, R, M),
    ("staff:colleague-ratings", "GET"): only(A, R, M, C),
    # A customer rates a collection from the receipt's QR code, without signing in.
    ("staff:customer-rating", "GET"): ALL,
    ("staff:grant-user", "GET"): only(A, R),
    ("staff:grant-users", "GET"): only(A, R),
    ("staff:login", "GET"): ALL,
    ("staff:login", "POST"): ALL,
    ("staff:logout", "GET"): ALL,
    ("staff:logout", "POST"): ALL,
    ("staff:monitor", "GET"): only(A, R, M, C, F),
    ("staff:otp-setup", "GET"): STAFF,
    ("staff:otp-enrol", "GET"): STAFF,
    ("staff:otp-enrolments", "GET"): only(A),
    ("staff:otp-verify", "GET"): STAFF,
    ("staff:password-change", "GET"): STAFF,
    ("staff:password-change", "POST"): STAFF,
    ("staff:performance", "GET"): only(A, R, M, C, F),
    # Reports: sales figures for the administrators, store managers (their store) and finance;
    # suppliers see the sales and rankings of their own products; profit and turnover not.
    ("reports:sales", "GET"): only(A, R, M, F, U),
    ("reports:rankings", "GET"): only(A, R, M, F, U),
    ("reports:payments", "GET"): only(A, R, M, F),
    ("reports:heatmap", "GET"): only(A, R, M, F),
    ("reports:statuses", "GET"): only(A, R, M, F),
    ("reports:profit", "GET"): only(A, R, M, F),
    ("reports:turnover", "GET"): only(A, R, M, F),
    ("reports:summary", "GET"): only(A, R, M, F),
    ("reports:summary", "POST"): only(A, R, M, F),
    ("staff:receipt", "GET"): only(A, R, M, C, F),
    ("staff:rule-edit", "GET"): only(A, R),
    ("staff:rule-list", "GET"): only(A, R, M),
    ("staff:shift-close", "POST"): only(A, R, M, C),
    ("staff:shift-list", "GET"): only(A, R, M, C, F),
    ("staff:shift-open", "POST"): only(A, R, M, C),
    ("staffalert-acknowledge", "POST"): only(A, R, M),
    ("staffalert-detail", "GET"): only(A, R, M, F),
    ("staffalert-list", "GET"): only(A, R, M, F),
    ("staffprofile-activate", "POST"): only(A, R, M),
    ("staffprofile-deactivate", "POST"): only(A, R, M),
    ("staffprofile-detail", "GET"): only(A, R, M),
    ("staffprofile-detail", "PATCH"): only(A, R, M),
    ("staffprofile-list", "GET"): only(A, R, M),
    ("staffprofile-list", "POST"): only(A, R, M),
    ("supplier-detail", "GET"): only(A, R, M, U),
    ("supplier-list", "GET"): only(A, R, M, U),
    ("telemetry-detail", "GET"): only(A, R, M, S),
    ("telemetry-list", "GET"): only(A, R, M, S),
    ("vending:dex-reconcile", "GET"): only(A, R, S),
    ("vending:low-stock", "GET"): only(A, R, S),
    ("vending:planogram", "GET"): only(A, R, S),
    ("vending:planogram-import", "GET"): only(A, R),
    ("vending:restock-detail", "GET"): only(A, R, S),
    ("vending:restock-detail", "POST"): only(A, R, S),
    ("vending:restock-list", "GET"): only(A, R, S),
    ("vending:restock-load", "GET"): only(A, R, S),
    ("vending:restock-plan", "GET"): only(A, R, S),
    ("vending:restock-route", "GET"): only(A, R, S),
    ("vending:replenishment", "GET"): only(A, R, S),
    ("vending:slot-list", "GET"): only(A, R, S),
    ("vending:supplier-dashboard", "GET"): only(A, R, M, C, S, U),
    ("wallet:payment-notify", "POST"): ALL,
    ("wallet:recharge-list", "GET"): only(A, R, M, F),
    ("wallet:tier-create", "GET"): only(A, R),
    ("wallet:tier-list", "GET"): only(A, R, M, F),  # payment providers' callbacks: verified by signature
}

# Not part of the matrix: framework plumbing with no permission of its own, and the operations
# endpoints for load balancers and Prometheus (open health, metrics behind a bearer token), which
# tests/core/test_health_and_metrics.py covers.
IGNORED = {"set_language", "api-schema", "api-docs", "api-root", "health", "metrics", None}


def _walk(patterns, namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if str(pattern.pattern).startswith("admin/"):
                continue
            yield from _walk(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}:{pattern.name}" if namespace and pattern.name else pattern.name
            yield name, pattern


def _methods(pattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)
    if actions:  # a DRF route: the methods it maps
        return sorted(method.upper() for method in actions if method not in ("head", "options", "put"))
    view_class = getattr(callback, "view_class", None)
    if view_class is not None:
        allowed = [m.upper() for m in ("get", "post") if hasattr(view_class, m)]
        return allowed or ["GET"]
    function = callback
    while function is not None:  # through csrf_exempt and friends to require_http_methods' list
        cells = [c.cell_contents for c in (getattr(function, "__closure__", None) or ())]
        for values in cells:
            if isinstance(values, list | tuple) and values and all(isinstance(v, str) for v in values):
                return sorted(v.upper() for v in values if v.upper() in ("GET", "POST"))
        function = getattr(function, "__wrapped__", None)
    return ["GET"]


def endpoints() -> dict[tuple[str, str], str]:
    found = {}
    for name, pattern in _walk(get_resolver().url_patterns):
        if (
            name in IGNORED
            or str(pattern.pattern).startswith(("^media", "static", "favicon"))
            or "format" in str(pattern.pattern)
        ):
            continue
        for method in _methods(pattern):
            found[(name, method)] = pattern
    return found


def _url(name, pattern):
    from django.urls import NoReverseMatch

    for args in ([], [999999], ["00000000-0000-0000-0000-000000000000"], ["bad-token"]):
        try:
            return reverse(name, args=args)
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot build a URL for {name}")


def _user(world, role):
    return {
        "anonymous": None,
        A: world.admin,
        R: world.regional,
        M: world.manager,
        C: world.clerk,
        S: world.service,
        U: world.supplier_user,
        F: world.finance,
        P: world.partner_user,
    }[role]


def _allowed(response, role, url) -> bool:
    if url == reverse("staff:logout"):
        return response.status_code not in (401, 403)  # logging out redirects to the login page, for anyone
    if response.status_code in (401, 403):
        return False
    if response.status_code == 302 and response.get("Location", "").split("?")[0] == reverse("staff:login"):
        return False
    assert response.status_code < 500, (url, role, response.status_code)
    return True


def test_every_page_and_endpoint_has_a_row():
    found = set(endpoints())
    missing = sorted(found - set(MATRIX), key=str)
    stale = sorted(set(MATRIX) - found, key=str)
    assert not missing, f"add these to MATRIX in {__file__}: {missing}"
    assert not stale, f"these rows name nothing that exists: {stale}"


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
def test_the_matrix_holds_for(role, world, client):
    user = _user(world, role)
    wrong = []
    for (name, method), pattern in sorted(endpoints().items(), key=str):
        if user is not None:
            client.force_login(user)  # again each time: the logout row ends the session
        url = _url(name, pattern)
        response = client.get(url) if method == "GET" else client.generic(method, url, "{}", "application/json")
        allowed = _allowed(response, role, url)
        expected = role in MATRIX.get((name, method), NONE)
        if allowed != expected:
            wrong.append(
                f"{method} {url} ({name}): {'allowed' if allowed else 'denied'} ({response.status_code}), expected {'allowed' if expected else 'denied'}"
            )
    assert not wrong, "\n".join(wrong)
