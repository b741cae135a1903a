"""factory_boy factories, and the scoping registry used by the generated scoping tests:
`SCOPED_BUILDERS[Model](region)` makes one row of that model inside `region`. A new scoped model
exposed by an API viewset or console page needs an entry here, or the generated tests fail."""

from __future__ import annotations

import itertools
from decimal import Decimal
from types import SimpleNamespace

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from catalog.models import Brand, Category, Product, Supplier
from core.models import AuditEntry, Region, Site
from core.services import scope_grant
from devices.models import Device
from members.models import Customer
from orders.models import Order, OrderKind, Payment, Refund
from orders.services import LineSpec, order_create, payment_collect, refund_create

_seq = itertools.count(1)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region

    name = factory.Sequence(lambda n: f"Region {n}")
    code = factory.Sequence(lambda n: f"region-{n}")
    kind = Region.Kind.CITY


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    name = factory.Sequence(lambda n: f"Site {n}")
    code = factory.Sequence(lambda n: f"site-{n}")
    region = factory.SubFactory(RegionFactory)
    kind = Site.Kind.STORE
    latitude = Decimal("31.230000")
    longitude = Decimal("121.470000")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.test")
    password = factory.PostGenerationMethodCall("set_password", "pass-12345-word")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted == "platform_admin":
                self.is_staff = True
        self.save()


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")
    code = factory.Sequence(lambda n: f"supplier-{n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    code = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    cost_price = Decimal("1.50")
    sale_price = Decimal("3.00")
    supplier = factory.SubFactory(SupplierFactory)


class DeviceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Device

    serial_number = factory.Sequence(lambda n: f"SN-T{n:06d}")
    name = factory.Sequence(lambda n: f"Machine {n}")
    kind = Device.Kind.VENDING
    site = factory.SubFactory(SiteFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    phone = factory.Sequence(lambda n: f"138{n:08d}")
    name = factory.Sequence(lambda n: f"Customer {n}")


def make_order(
    *,
    site: Site,
    total: Decimal = Decimal("10.00"),
    kind=OrderKind.COUNTER,
    paid: bool = False,
    customer=None,
    device=None,
) -> Order:
    order = order_create(
        kind=kind,
        actor=None,
        site=site,
        device=device,
        customer=customer,
        lines=[LineSpec(description="Item", unit_price=total)],
    )
    if paid:
        payment_collect(order=order, provider="cash", amount=total, actor=None)
        order.refresh_from_db()
    return order


def _site_in(region):
    return SiteFactory(region=region)


def _order_in(region):
    return make_order(site=_site_in(region))


def _payment_in(region):
    order = make_order(site=_site_in(region), paid=True)
    return Payment.objects.get(order=order)


def _refund_in(region):
    order = make_order(site=_site_in(region), paid=True)
    return refund_create(order=order, amount=Decimal("1.00"), actor=None, reason="test")


def _audit_in(region):
    return AuditEntry.objects.create(actor_label="t", action="test", region=region)


SCOPED_BUILDERS = {
    Region: lambda region: RegionFactory(parent=region),
    Site: _site_in,
    Device: lambda region: DeviceFactory(site=_site_in(region)),
    Order: _order_in,
    Payment: _payment_in,
    Refund: _refund_in,
    AuditEntry: _audit_in,
    Customer: lambda region: CustomerFactory(home_region=region),
}
# Global reference data: every staff user with the role permission sees all of it.
GLOBAL_MODELS = {Category, Brand}
# Supplier-scoped: a supplier user sees only their own.
SUPPLIER_BUILDERS = {
    Product: lambda supplier: ProductFactory(supplier=supplier),
    Supplier: lambda supplier: supplier,
}

# Revenue-partner-scoped: `PARTNER_BUILDERS[Model](partner)` makes a row of that partner; a partner
# portal user sees only their own partner's rows (tests/core/test_scoping_generated.py).
PARTNER_BUILDERS: dict = {}


def _profile(user, site, **switches):
    from staff.models import StaffProfile

    profile = StaffProfile.objects.create(user=user, **switches)
    profile.sites.add(site)
    return profile


def build_world() -> SimpleNamespace:
    root = RegionFactory(name="Root", code=f"root-{next(_seq)}", kind=Region.Kind.COUNTRY)
    east = RegionFactory(name="East", parent=root)
    west = RegionFactory(name="West", parent=root)
    east_store = SiteFactory(region=east, name="East store")
    west_store = SiteFactory(region=west, name="West store")
    admin = UserFactory(role="platform_admin", is_superuser=False)
    regional = UserFactory(role="regional_admin")
    scope_grant(actor=None, user=regional, target=east, action="change")
    manager = UserFactory(role="store_manager")
    scope_grant(actor=None, user=manager, target=east_store, action="change")
    clerk = UserFactory(role="clerk")
    scope_grant(actor=None, user=clerk, target=east_store, action="view")
    _profile(manager, east_store, can_refund=True, refund_limit=Decimal("500.00"), reports="store")
    _profile(clerk, east_store, can_refund=True, refund_limit=Decimal("50.00"), refund_daily_limit=Decimal("100.00"))
    service = UserFactory(role="service_staff")
    scope_grant(actor=None, user=service, target=east, action="view")
    finance = UserFactory(role="finance")
    scope_grant(actor=None, user=finance, target=root, action="view")
    supplier_user = UserFactory(role="supplier")
    supplier = SupplierFactory(name="Own supplier")
    supplier.users.add(supplier_user)
    other_supplier = SupplierFactory(name="Other supplier")
    from accounting.models import Partner

    # Two revenue partners in the same region: a partner user is scoped by partner, not by region.
    partner_user = UserFactory(role="partner")
    partner = Partner.objects.create(name="Own partner", kind=Partner.Kind.AGENT, region=east)
    partner.users.add(partner_user)
    other_partner = Partner.objects.create(name="Other partner", kind=Partner.Kind.INVESTOR, region=east)
    return SimpleNamespace(
        root=root,
        east=east,
        west=west,
        east_store=east_store,
        west_store=west_store,
        admin=admin,
        regional=regional,
        manager=manager,
        clerk=clerk,
        service=service,
        finance=finance,
        supplier_user=supplier_user,
        supplier=supplier,
        other_supplier=other_supplier,
        partner_user=partner_user,
        partner=partner,
        other_partner=other_partner,
    )


def _collect_app_builders() -> None:
    """Each app's tests may add `tests/<app>/builders.py` with SCOPED_BUILDERS, GLOBAL_MODELS and
    SUPPLIER_BUILDERS of its own; they are merged here so the generated tests see them."""
    import importlib
    import pathlib

    for path in sorted(pathlib.Path(__file__).parent.glob("*/builders.py")):
        module = importlib.import_module(f"tests.{path.parent.name}.builders")
        SCOPED_BUILDERS.update(getattr(module, "SCOPED_BUILDERS", {}))
        GLOBAL_MODELS.update(getattr(module, "GLOBAL_MODELS", set()))
        SUPPLIER_BUILDERS.update(getattr(module, "SUPPLIER_BUILDERS", {}))
        PARTNER_BUILDERS.update(getattr(module, "PARTNER_BUILDERS", {}))


_collect_app_builders()


def stock_shelf(site: Site, product, quantity: int):
    """Put `quantity` of `product` on the store's shelf (what the till sells from)."""
    from inventory.services import level_for, stock_move
    from staff.counter import shelf_of

    level = level_for(location=shelf_of(site), product=product)
    stock_move(level=level, quantity=quantity, reason="restock", actor="test")
    return level
