"""Roles are groups with fixed permission sets, kept in one readable table.

Model permissions decide which kinds of objects a role may use at all; django-guardian grants on
regions and sites (core.scoping) decide which rows. Entries are "app.codename", "app.*" (every
permission of an app) or "app.view_*" (every view permission of an app).

`PLATFORM_ONLY` lists the permissions that reach accounts, roles, grants and the platform's own
machinery (users, groups, permissions, object grants, tokens, second-factor devices, lockouts,
schedules, the region tree, member levels shared by every region). No role but the platform
administrator ever holds one, whatever its patterns say: `role_permission_ids` drops them, and a
test checks every role's synced group (ADR 8).
"""

from __future__ import annotations

from fnmatch import fnmatch

from django.utils.translation import gettext_lazy as _

PLATFORM_ADMIN = "platform_admin"
REGIONAL_ADMIN = "regional_admin"
STORE_MANAGER = "store_manager"
CLERK = "clerk"
SERVICE_STAFF = "service_staff"
SUPPLIER = "supplier"
FINANCE = "finance"
# A revenue partner's own people (agent, site owner, investor): the partner portal only. Not the
# API partners of orders.PartnerClient, which have keys, not logins.
PARTNER = "partner"

ROLE_LABELS = {
    PLATFORM_ADMIN: _("Platform administrator"),
    REGIONAL_ADMIN: _("Regional administrator"),
    STORE_MANAGER: _("Store manager"),
    CLERK: _("Clerk"),
    SERVICE_STAFF: _("Service staff"),
    SUPPLIER: _("Supplier"),
    FINANCE: _("Finance"),
    PARTNER: _("Revenue partner"),
}

PLATFORM_ONLY: tuple[str, ...] = (
    "auth.*",
    "contenttypes.*",
    "sessions.*",
    "admin.*",
    "guardian.*",
    "authtoken.*",
    "axes.*",
    "django_otp.*",
    "otp_totp.*",
    "otp_static.*",
    "django_celery_beat.*",
    "staff.*_user",
    "core.scope_all",
    "core.add_region",
    "core.change_region",
    "core.delete_region",
    "members.*_memberlevel",
    "members.*_customertoken",
    "members.*_logincode",
)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    PLATFORM_ADMIN: ["*.*"],
    REGIONAL_ADMIN: [
        "core.view_region",
        "core.view_site",
        "core.add_site",
        "core.change_site",
        "core.view_auditentry",
        "core.view_regionsetting",
        "core.change_regionsetting",
        "catalog.view_*",
        "inventory.*",
        "devices.*",
        "gateway.*",
        "orders.*",
        "members.*",
        "vending.*",
        "lockers.*",
        "pickup.*",
        "leasing.*",
        "wallet.view_*",
        "wallet.add_bonustier",
        "wallet.change_bonustier",
        "accounting.view_*",
        "reports.*",
        "forecasts.view_*",
        # Delivery orders of their regions (docs/adr/0032); the platforms' file layouts are shared,
        # so only read.
        "fulfilment.view_*",
        "fulfilment.add_delivery",
        "fulfilment.change_delivery",
        # Shipping and returns (docs/adr/0034).
        "fulfilment.add_shipment",
        "fulfilment.change_shipment",
        "fulfilment.add_returnrequest",
        "fulfilment.change_returnrequest",
        # Picking and packing delivery orders at their regions' warehouses (docs/adr/0033).
        "fulfilment.view_packscan",
        "fulfilment.add_packscan",
        # Store staff of their regions, through the console services (which check scope and role);
        # never the user accounts themselves.
        "staff.view_staffprofile",
        "staff.add_staffprofile",
        "staff.change_staffprofile",
        # Regions and stores of store staff and service staff inside their regions (ADR 15).
        "staff.manage_grants",
        "staff.use_cashier",
        "staff.view_performance",
        "staff.view_shift",
        "staff.add_shift",
        "staff.change_shift",
        "staff.view_refundapproval",
        "staff.add_refundapproval",
        "staff.change_refundapproval",
        "staff.view_offlinesale",
        "staff.add_offlinesale",
        "staff.change_offlinesale",
        "staff.view_anomalyrule",
        "staff.add_anomalyrule",
        "staff.change_anomalyrule",
        "staff.delete_anomalyrule",
        "staff.view_staffalert",
        "staff.change_staffalert",
    ],
    STORE_MANAGER: [
        "core.view_site",
        "catalog.view_*",
        "inventory.view_*",
        "devices.view_*",
        # Not the API partners and their webhook log: those are the administrators'.
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_orderevent",
        "orders.view_payment",
        "orders.view_refund",
        "orders.add_order",
        "orders.change_order",
        "orders.add_payment",
        "orders.add_refund",
        "orders.change_refund",
        "members.view_*",
        "members.change_customer",
        "members.add_customer",
        "pickup.*",
        "lockers.view_*",
        "lockers.add_lockerorder",
        "leasing.view_*",
        "wallet.view_*",
        "reports.view_*",
        "members.view_feedback",
        "members.change_feedback",
        "staff.view_staffprofile",
        "staff.add_staffprofile",
        "staff.change_staffprofile",
        "staff.use_cashier",
        "staff.view_performance",
        "staff.view_shift",
        "staff.add_shift",
        "staff.change_shift",
        "staff.view_refundapproval",
        "staff.add_refundapproval",
        "staff.change_refundapproval",
        "staff.view_offlinesale",
        "staff.add_offlinesale",
        "staff.change_offlinesale",
        "staff.view_staffalert",
        "staff.change_staffalert",
        "staff.view_anomalyrule",
    ],
    CLERK: [
        "core.view_site",
        "catalog.view_product",
        "catalog.view_category",
        "orders.view_order",
        "orders.add_order",
        "orders.view_payment",
        "orders.add_payment",
        "orders.view_refund",
        "orders.add_refund",
        "members.view_customer",
        "pickup.view_*",
        "pickup.change_pickupcode",
        "pickup.add_pickupcode",
        "lockers.view_lockerorder",
        "lockers.add_lockerorder",
        "staff.use_cashier",
        "staff.view_performance",
        "staff.view_shift",
        "staff.add_shift",
        "staff.change_shift",
        "staff.view_refundapproval",
        "staff.add_refundapproval",
        "staff.view_offlinesale",
        "staff.add_offlinesale",
    ],
    SERVICE_STAFF: [
        "core.view_site",
        "catalog.view_product",
        "devices.view_*",
        "devices.change_device",
        "devices.change_fault",
        "gateway.view_*",
        "gateway.add_dexread",
        "inventory.view_*",
        "inventory.change_*",
        "vending.view_*",
        "vending.add_restocktask",
        "vending.change_restocktask",
        # Demand forecasts of their machines: what to bring.
        "forecasts.view_*",
        "lockers.view_*",
        "lockers.change_returntask",
        # Warehouse work: picking and packing delivery orders by scans (docs/adr/0033).
        "fulfilment.view_packscan",
        "fulfilment.add_packscan",
    ],
    SUPPLIER: [
        "catalog.view_product",
        "catalog.view_category",
        "catalog.view_supplier",
        "inventory.view_*",
        # Sales and rankings of their own products (reports.selectors.supplier_products).
        "reports.view_productsalesday",
    ],
    FINANCE: [
        "core.view_region",
        "core.view_site",
        # Not the API partners and their webhook log: those are the administrators'.
        "orders.view_order",
        "orders.view_orderline",
        "orders.view_orderevent",
        "orders.view_payment",
        "orders.view_refund",
        "wallet.view_*",
        # Everything of accounting but the partner portal, which is the partners' own.
        "accounting.view_*",
        "accounting.add_*",
        "accounting.change_*",
        "accounting.export_journal",
        "reports.*",
        "members.view_customer",
        "staff.view_shift",
        "staff.view_refundapproval",
        "staff.view_offlinesale",
        "staff.view_staffalert",
        "staff.view_performance",
    ],
    # Rows: only their own partner's (accounting.models.PartnerScopedQuerySet).
    PARTNER: ["accounting.use_partner_portal"],
}


def _matches(pattern: str, app_label: str, codename: str) -> bool:
    app_pattern, _sep, code_pattern = pattern.partition(".")
    return fnmatch(app_label, app_pattern) and fnmatch(codename, code_pattern)


def is_platform_only(app_label: str, codename: str) -> bool:
    return any(_matches(p, app_label, codename) for p in PLATFORM_ONLY)


def role_permission_ids(role: str, permissions) -> list[int]:
    patterns = ROLE_PERMISSIONS[role]
    return [
        perm.pk
        for perm in permissions
        if any(_matches(p, perm.content_type.app_label, perm.codename) for p in patterns)
        and (role == PLATFORM_ADMIN or not is_platform_only(perm.content_type.app_label, perm.codename))
    ]


def roles_sync(using: str = "default") -> None:
    """Create every role group and set its permissions to exactly the table's (idempotent)."""
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.auth.models import Group, Permission

    for app_config in apps.get_app_configs():
        create_permissions(app_config, verbosity=0, using=using)
    permissions = list(Permission.objects.using(using).select_related("content_type"))
    for role in ROLE_PERMISSIONS:
        group, _created = Group.objects.using(using).get_or_create(name=role)
        group.permissions.set(role_permission_ids(role, permissions))
