"""What a store employee may do, beyond their role's model permissions: the permission switches
and refund limits of their profile, and the stores they work in.

Every refusal is written to the audit log before it is raised, so an attempt outside one's
permissions leaves a trace even though it changes nothing.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.scoping import user_can_reach, user_grants
from staff.roles import CLERK, PLATFORM_ADMIN, REGIONAL_ADMIN, STORE_MANAGER

COLLECT = "collect"
REFUND = "refund"
MEMBERS = "members"
SETTINGS = "settings"
REPORTS_OWN = "reports_own"
REPORTS_STORE = "reports_store"
SELL_SERVICES = "sell_services"


class StaffPermissionDenied(PermissionDenied):
    """A refusal with a message meant for the person who tried."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def profile_of(user):
    """The user's StaffProfile, or None (administrators and older accounts have none)."""
    from staff.models import StaffProfile

    if user is None or not getattr(user, "pk", None):
        return None
    cache = user.__dict__.setdefault("_staff_profile", {})
    if "profile" not in cache:
        cache["profile"] = StaffProfile.objects.filter(user=user).first()
    return cache["profile"]


def has_role(user, *roles: str) -> bool:
    if user.is_superuser:
        return PLATFORM_ADMIN in roles
    names = {group.name for group in user.groups.all()}
    return bool(names & set(roles))


def is_store_role(user) -> bool:
    """Clerks and store managers act under their profile's switches and limits."""
    return has_role(user, CLERK, STORE_MANAGER) and not has_role(user, PLATFORM_ADMIN, REGIONAL_ADMIN)


def deny(*, user, action: str, message: str, obj=None, data: dict | None = None):
    """Record the refused attempt in the audit log and raise. Services check before they open
    their transaction, so the record is not rolled back with the refused change."""
    from core.models import Region
    from core.services import audit_record

    region = obj if isinstance(obj, Region) else getattr(obj, "region", None)
    audit_record(
        actor=user,
        action=f"denied.{action}",
        obj=obj,
        changes={"message": str(message), **(data or {})},
        region=region if isinstance(region, Region) else None,
    )
    raise StaffPermissionDenied(message)


def works_at(user, site) -> bool:
    """Whether `site` is one of the user's stores (or inside their scope for administrators)."""
    if site is None:
        return False
    if user_grants(user, "view").everything:
        return True
    profile = profile_of(user)
    if profile is not None and is_store_role(user):
        return profile.sites.filter(pk=site.pk).exists() and user_can_reach(user, site, "view")
    return user_can_reach(user, site, "view")


def allowed(user, capability: str, site=None) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    if site is not None and not works_at(user, site):
        return False
    if not is_store_role(user):
        return True
    profile = profile_of(user)
    if profile is None:
        return capability in (COLLECT, REPORTS_OWN, SELL_SERVICES) and has_role(user, STORE_MANAGER)
    return {
        COLLECT: profile.can_collect,
        REFUND: profile.can_refund,
        MEMBERS: profile.can_manage_members,
        SETTINGS: profile.can_change_settings,
        REPORTS_OWN: profile.reports in (profile.Reports.OWN, profile.Reports.STORE),
        REPORTS_STORE: profile.reports == profile.Reports.STORE,
        SELL_SERVICES: profile.can_collect and profile.can_sell_services,
    }[capability]


CAPABILITY_MESSAGES = {
    COLLECT: gettext_lazy("You may not collect payments."),
    REFUND: gettext_lazy("You may not refund."),
    MEMBERS: gettext_lazy("You may not manage members."),
    SETTINGS: gettext_lazy("You may not change settings."),
    REPORTS_OWN: gettext_lazy("You may not view reports."),
    REPORTS_STORE: gettext_lazy("You may not view the whole store's reports."),
    SELL_SERVICES: gettext_lazy("You may not sell items that are not in the catalog."),
}


def require(user, capability: str, site=None, *, obj=None) -> None:
    """Raise StaffPermissionDenied (logged) unless `user` may do `capability` at `site`."""
    if site is not None and not works_at(user, site):
        deny(
            user=user,
            action=capability,
            message=_("You do not work at %(site)s.") % {"site": site},
            obj=obj or site,
        )
    if not allowed(user, capability, site):
        deny(user=user, action=capability, message=str(CAPABILITY_MESSAGES[capability]), obj=obj or site)


def refund_limits(user) -> tuple[Decimal | None, Decimal | None]:
    """(per refund, per day) for users acting under a profile; (None, None) means no limit."""
    if not is_store_role(user):
        return None, None
    profile = profile_of(user)
    if profile is None:
        return Decimal("0.00"), Decimal("0.00")
    return profile.refund_limit, profile.refund_daily_limit


def method_kind(code: str) -> str:
    """The kind of a till payment method (cash, card, qr, wallet, points) a clerk may be allowed."""
    from orders.payments import provider_get

    if code in ("cash", "card", "wallet", "points"):
        return code
    if getattr(provider_get(code), "shows_qr", False):
        return "qr"
    return code


def may_collect_with(user, code: str) -> bool:
    """Whether the clerk's profile lets them take this method (users without a profile: yes)."""
    if not is_store_role(user):
        return True
    profile = profile_of(user)
    if profile is None:
        return True
    return method_kind(code) in (profile.collect_methods or [])


def collect_limits(user) -> tuple[Decimal | None, Decimal | None]:
    """(per collection, per day) for users acting under a profile; None means no limit."""
    if not is_store_role(user):
        return None, None
    profile = profile_of(user)
    if profile is None:
        return None, None
    return profile.collect_limit, profile.collect_daily_limit
