"""Demo regions, sites and one user per role."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from core.models import Region, Site
from core.services import scope_grant

DEMO_PASSWORD = "demo-pass-2026"
DEMO_USERS = [
    # username, role, full name, scope (region code or site code)
    ("admin", "platform_admin", "Platform Admin", None),
    ("regional", "regional_admin", "Li Na (Shanghai)", "demo-sh"),
    ("manager", "store_manager", "Wang Fang", "sh-store-1"),
    ("clerk", "clerk", "Zhang Wei", "sh-store-1"),
    ("service", "service_staff", "Chen Jie", "demo-sh"),
    ("supplier", "supplier", "Fresh Drinks Co.", None),
    # Finance reads the orders and money of every region (a view grant on the country), changes none.
    ("finance", "finance", "Zhao Min", "demo-cn"),
    # The Shanghai agent's own login to the revenue partner portal (accounting/demo.py links it).
    ("partner", "partner", "Sun Li", None),
]

CITIES = [
    ("demo-sh", "Shanghai", Decimal("31.2304"), Decimal("121.4737"), ["Jing'an", "Xuhui", "Pudong", "Hongkou"]),
    ("demo-hz", "Hangzhou", Decimal("30.2741"), Decimal("120.1551"), ["Xihu", "Binjiang", "Gongshu"]),
    ("demo-sz", "Shenzhen", Decimal("22.5431"), Decimal("114.0579"), ["Nanshan", "Futian", "Luohu"]),
]


def seed(ctx):
    rnd = ctx["random"]
    root = Region.objects.create(name="China", code="demo-cn", kind=Region.Kind.COUNTRY)
    regions, sites = {}, {}
    for code, name, lat, lng, districts in CITIES:
        city = Region.objects.create(name=name, code=code, kind=Region.Kind.CITY, parent=root)
        regions[code] = city
        prefix = code.split("-")[1]
        for index, district in enumerate(districts, start=1):
            kind = Site.Kind.STORE if index <= 2 else Site.Kind.VENUE
            site_code = f"{prefix}-{'store' if kind == Site.Kind.STORE else 'venue'}-{index}"
            sites[site_code] = Site.objects.create(
                name=f"{name} {district} {kind.label}",
                code=site_code,
                kind=kind,
                region=city,
                address=f"{index * 17} {district} Road, {name}",
                latitude=lat + Decimal(rnd.uniform(-0.05, 0.05)).quantize(Decimal("0.000001")),
                longitude=lng + Decimal(rnd.uniform(-0.05, 0.05)).quantize(Decimal("0.000001")),
            )
    sites["sh-warehouse"] = Site.objects.create(
        name="Shanghai Warehouse", code="sh-warehouse", kind=Site.Kind.WAREHOUSE, region=regions["demo-sh"]
    )
    User = get_user_model()
    users = {}
    for username, role, full_name, scope in DEMO_USERS:
        first, _, last = full_name.partition(" ")
        user = User.objects.filter(username=username).first() or User(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@demo.local"
        user.is_staff = role in ("platform_admin", "regional_admin")
        user.is_superuser = role == "platform_admin"
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        if scope in regions or scope == root.code:
            scope_grant(
                actor=None,
                user=user,
                target=regions.get(scope, root),
                # Service staff send commands to their machines and close their faults: a change
                # grant on their region (their role's permissions bound what they may change).
                action="change" if role in ("regional_admin", "service_staff") else "view",
            )
        elif scope in sites:
            scope_grant(
                actor=None, user=user, target=sites[scope], action="change" if role == "store_manager" else "view"
            )
            _store_profile(user, role, sites[scope])
        if role == "finance":
            # Finance reads the money of every region (not changes it).
            scope_grant(actor=None, user=user, target=root, action="view")
        users[role] = user
    ctx.update(regions=regions, sites=sites, users=users)


def _store_profile(user, role, site):
    """Store staff act under their profile's switches: the demo clerk refunds up to 50 a time and
    100 a day, the manager up to 500 a time (above that the regional administrator approves)."""
    from staff.models import StaffProfile

    limits = (
        {"refund_limit": Decimal("500.00"), "refund_daily_limit": None, "reports": StaffProfile.Reports.STORE}
        if role == "store_manager"
        else {
            "refund_limit": Decimal("50.00"),
            "refund_daily_limit": Decimal("100.00"),
            "reports": StaffProfile.Reports.OWN,
        }
    )
    profile, _created = StaffProfile.objects.update_or_create(user=user, defaults={"can_refund": True, **limits})
    profile.sites.set([site])
