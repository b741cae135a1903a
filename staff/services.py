"""Writes for staff: accounts, their roles, stores and permission switches.

Clerks log in with their phone number. A new clerk gets a random initial password, delivered by
SMS (or email) through the notification service with the password masked in every stored copy;
they must change it at first login. Accounts are deactivated, never deleted.
"""

from __future__ import annotations

import re
import secrets
import string
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core.models import Notification
from core.scoping import forget_grants
from core.services import audit_record, model_changes, notification_send, scope_grant, scope_revoke
from staff.models import COLLECT_KINDS, StaffProfile, User
from staff.roles import CLERK, PLATFORM_ADMIN, REGIONAL_ADMIN, SERVICE_STAFF, STORE_MANAGER

PHONE_RE = re.compile(r"^\+?[0-9]{6,15}$")
# Roles a store manager may give; regional and platform administrators may give any store role.
STORE_ROLES = (CLERK, STORE_MANAGER)
PROFILE_FIELDS = (
    "can_collect",
    "can_refund",
    "refund_limit",
    "refund_daily_limit",
    "reports",
    "can_manage_members",
    "can_change_settings",
    "collect_methods",
    "collect_limit",
    "collect_daily_limit",
    "can_sell_services",
)
LIMIT_FIELDS = ("refund_limit", "refund_daily_limit")
COLLECT_LIMIT_FIELDS = ("collect_limit", "collect_daily_limit")
SWITCH_FIELDS = ("can_collect", "can_refund", "can_manage_members", "can_change_settings", "can_sell_services")


def phone_normalise(phone: str) -> str:
    cleaned = re.sub(r"[\s\-()]", "", phone or "")
    if not PHONE_RE.match(cleaned):
        raise ValidationError({"phone": _("Enter a phone number of 6 to 15 digits, optionally starting with +.")})
    return cleaned


def password_generate(length: int = 12) -> str:
    """Random, with letters and digits, never all digits (Django's validators reject those)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if any(c.isdigit() for c in candidate) and any(c.isalpha() for c in candidate):
            return candidate


def _check_limits(refund_limit, refund_daily_limit):
    errors = {}
    for name, value in (("refund_limit", refund_limit), ("refund_daily_limit", refund_daily_limit)):
        if value is not None and Decimal(value) < 0:
            errors[name] = _("A limit cannot be negative.")
    if (
        refund_limit is not None
        and refund_daily_limit is not None
        and Decimal(refund_limit) > Decimal(refund_daily_limit)
    ):
        errors["refund_daily_limit"] = _("The daily limit cannot be lower than the limit per refund.")
    if errors:
        raise ValidationError(errors)


def _check_actor_may_staff(actor, *, role: str, sites) -> None:
    from staff.policies import has_role, works_at

    if role not in STORE_ROLES and not has_role(actor, PLATFORM_ADMIN):
        raise ValidationError({"role": _("You may add clerks and store managers only.")})
    if role == STORE_MANAGER and not has_role(actor, PLATFORM_ADMIN, REGIONAL_ADMIN):
        raise ValidationError({"role": _("Only an administrator may add a store manager.")})
    for site in sites:
        if not works_at(actor, site):
            raise ValidationError({"sites": _("You cannot add staff to %(site)s.") % {"site": site}})


def _refuse(actor, *, action: str, obj, errors, region=None):
    """Write the refused attempt to the audit log, then raise it as a validation error (a 400 in
    the API, form errors on pages). Called before the service's transaction, so the trace stays."""
    error = ValidationError(errors)
    detail = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    audit_record(actor=actor, action=f"denied.{action}", obj=obj, changes={"errors": detail}, region=region)
    raise error


def _check_actor_may_manage(actor, user: User, *, action: str) -> None:
    """Store staff are managed by those above them; accounts of administrators (and anyone who is
    not store staff) only by a platform administrator (ADR 8)."""
    from staff.policies import has_role

    if has_role(actor, PLATFORM_ADMIN):
        return
    roles = set(user.role_names)
    if user.is_superuser or not roles or not roles <= set(STORE_ROLES):
        _refuse(actor, action=action, obj=user, errors=_("Only a platform administrator may change this account."))
    if STORE_MANAGER in roles and not has_role(actor, REGIONAL_ADMIN):
        _refuse(actor, action=action, obj=user, errors=_("Only an administrator may change a store manager."))


def _own_grants(actor) -> dict | None:
    """What the actor holds and so may give: None for administrators, who act under no profile."""
    from staff.policies import is_store_role, profile_of

    if not is_store_role(actor):
        return None
    profile = profile_of(actor)
    if profile is None:  # a store manager without a profile may collect, and nothing more
        return {
            "can_collect": True,
            "can_sell_services": True,
            **dict.fromkeys(("can_refund", "can_manage_members", "can_change_settings"), False),
            **dict.fromkeys(LIMIT_FIELDS, Decimal("0.00")),
            **dict.fromkeys(COLLECT_LIMIT_FIELDS, None),
            "collect_methods": list(COLLECT_KINDS),
            "reports": StaffProfile.Reports.OWN,
        }
    return {field: getattr(profile, field) for field in PROFILE_FIELDS}


def _check_grants(actor, *, before: dict | None, after: dict) -> dict:
    """Nobody grants more than they hold: no switch they lack, no limit above their own, and no
    unlimited refunds unless they are unlimited themselves. Only what changes is a grant."""
    own = _own_grants(actor)
    if own is None:
        return {}
    errors = {}

    def granted(field):
        return before is None or before[field] != after[field]

    for field in SWITCH_FIELDS:
        if after[field] and granted(field) and not own[field]:
            errors[field] = _("You may not give a permission you do not have yourself.")
    if after["reports"] == StaffProfile.Reports.STORE and granted("reports") and own["reports"] != after["reports"]:
        errors["reports"] = _("You may not give a permission you do not have yourself.")
    refunds_turned_on = after["can_refund"] and (before is None or not before["can_refund"])
    for field in LIMIT_FIELDS:
        if not after["can_refund"] or not (granted(field) or refunds_turned_on) or own[field] is None:
            continue
        if after[field] is None:
            errors[field] = _("You may not give unlimited refunds: your own limit is %(limit)s.") % {
                "limit": own[field]
            }
        elif Decimal(after[field]) > own[field]:
            errors[field] = _("You may not give a limit above your own, %(limit)s.") % {"limit": own[field]}
    if granted("collect_methods") and set(after["collect_methods"] or []) - set(own["collect_methods"] or []):
        errors["collect_methods"] = _("You may not give a payment method you may not collect yourself.")
    for field in COLLECT_LIMIT_FIELDS:
        if not granted(field) or own[field] is None:
            continue
        if after[field] is None:
            errors[field] = _("You may not give unlimited collections: your own limit is %(limit)s.") % {
                "limit": own[field]
            }
        elif Decimal(after[field]) > own[field]:
            errors[field] = _("You may not give a limit above your own, %(limit)s.") % {"limit": own[field]}
    return errors


def _check_collect_switches(changes: dict) -> None:
    """The methods are among the till's kinds; limits are not negative, the daily one not below
    the one per collection."""
    errors = {}
    methods = changes.get("collect_methods")
    if methods is not None:
        if not isinstance(methods, list | tuple) or set(methods) - set(COLLECT_KINDS):
            errors["collect_methods"] = _("Choose among %(kinds)s.") % {"kinds": ", ".join(COLLECT_KINDS)}
    per_collection, per_day = changes.get("collect_limit"), changes.get("collect_daily_limit")
    for name, value in (("collect_limit", per_collection), ("collect_daily_limit", per_day)):
        if value is not None and Decimal(value) < 0:
            errors[name] = _("A limit cannot be negative.")
    if per_collection is not None and per_day is not None and Decimal(per_collection) > Decimal(per_day):
        errors["collect_daily_limit"] = _("The daily limit cannot be lower than the limit per collection.")
    if errors:
        raise ValidationError(errors)


def clerk_create(
    *,
    actor,
    name: str,
    phone: str,
    role: str = CLERK,
    sites,
    gender: str = "",
    email: str = "",
    photo=None,
    send_by: str = Notification.Channel.SMS,
    language: str = "",
    **switches,
) -> User:
    """Add a store employee: phone number as login, a random initial password sent by SMS or
    email (never stored or logged in clear), the password change forced at first login."""
    phone = phone_normalise(phone)
    sites = list(sites)
    if not sites:
        raise ValidationError({"sites": _("Choose at least one store.")})
    if not (name or "").strip():
        raise ValidationError({"name": _("Enter the clerk's name.")})
    if role not in STORE_ROLES:
        raise ValidationError({"role": _("Choose clerk or store manager.")})
    if send_by == Notification.Channel.EMAIL and not email:
        raise ValidationError({"email": _("Enter an email address to send the password by email.")})
    _check_limits(switches.get("refund_limit"), switches.get("refund_daily_limit"))
    _check_collect_switches(switches)
    _check_actor_may_staff(actor, role=role, sites=sites)
    if User.objects.filter(username=phone).exists():
        raise ValidationError({"phone": _("Someone already logs in with this phone number.")})
    unknown = set(switches) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown profile fields {sorted(unknown)}")
    defaults = {field: StaffProfile._meta.get_field(field).get_default() for field in PROFILE_FIELDS}
    errors = _check_grants(actor, before=None, after={**defaults, **switches})
    if errors:
        _refuse(actor, action="staff.create", obj=None, errors=errors, region=sites[0].region)
    password = password_generate()
    first_name, _sep, last_name = name.strip().partition(" ")
    with transaction.atomic():
        user = User(
            username=phone,
            phone=phone,
            first_name=first_name[:150],
            last_name=last_name[:150],
            gender=gender,
            email=email,
            language=language,
            must_change_password=True,
        )
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save()
        user.groups.add(Group.objects.get(name=role))
        profile = StaffProfile(user=user, created_by=actor if getattr(actor, "pk", None) else None, **switches)
        if photo:
            profile.photo = photo
        profile.full_clean(exclude=["user", "photo"])
        profile.save()
        profile.sites.set(sites)
        for site in sites:
            scope_grant(actor=actor, user=user, target=site, action="change" if role == STORE_MANAGER else "view")
        audit_record(
            actor=actor,
            action="staff.create",
            obj=user,
            changes={"role": role, "sites": [s.code for s in sites], **_switches_repr(profile)},
            region=sites[0].region,
        )
        notification_send(
            template="staff_welcome",
            recipient=user,
            context={"username": user.username},
            secrets={"password": password},
            channels=[send_by],
            region=sites[0].region,
        )
    return user


def _switches_repr(profile: StaffProfile) -> dict:
    return {field: str(getattr(profile, field)) for field in PROFILE_FIELDS}


def staff_profile_update(*, actor, profile: StaffProfile, sites=None, photo=None, **changes) -> StaffProfile:
    """Change a clerk's switches, limits and stores; grants follow the stores."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown profile fields {sorted(unknown)}")
    if getattr(actor, "pk", None) == profile.user_id:
        _refuse(
            actor,
            action="staff.update",
            obj=profile.user,
            errors=_("Nobody changes their own limits, permissions or stores; ask whoever manages you."),
        )
    _check_actor_may_manage(actor, profile.user, action="staff.update")
    current = {field: getattr(profile, field) for field in PROFILE_FIELDS}
    errors = _check_grants(actor, before=current, after={**current, **changes})
    if errors:
        _refuse(actor, action="staff.update", obj=profile.user, errors=errors)
    limits = {
        "refund_limit": changes.get("refund_limit", profile.refund_limit),
        "refund_daily_limit": changes.get("refund_daily_limit", profile.refund_daily_limit),
    }
    _check_limits(limits["refund_limit"], limits["refund_daily_limit"])
    _check_collect_switches({field: changes.get(field, getattr(profile, field)) for field in PROFILE_FIELDS})
    role = STORE_MANAGER if profile.user.groups.filter(name=STORE_MANAGER).exists() else CLERK
    new_sites = list(sites) if sites is not None else None
    if new_sites is not None:
        if not new_sites:
            raise ValidationError({"sites": _("Choose at least one store.")})
        old = set(profile.sites.all())
        _check_actor_may_staff(actor, role=role, sites=set(new_sites) ^ old)
    with transaction.atomic():
        before = {field: getattr(profile, field) for field in PROFILE_FIELDS}
        for field, value in changes.items():
            setattr(profile, field, value)
        if photo is not None:
            profile.photo = photo
        profile.full_clean(exclude=["user", "photo"])
        profile.save()
        diff = model_changes(profile, PROFILE_FIELDS, before)
        if new_sites is not None:
            old = set(profile.sites.all())
            for site in old - set(new_sites):
                scope_revoke(actor=actor, user=profile.user, target=site)
            for site in set(new_sites) - old:
                scope_grant(
                    actor=actor, user=profile.user, target=site, action="change" if role == STORE_MANAGER else "view"
                )
            profile.sites.set(new_sites)
            if old != set(new_sites):
                diff["sites"] = [sorted(s.code for s in old), sorted(s.code for s in new_sites)]
        profile.user.__dict__.pop("_staff_profile", None)
        forget_grants(profile.user)
        if diff:
            site = next(iter(profile.sites.all()), None)
            audit_record(
                actor=actor, action="staff.update", obj=profile.user, changes=diff, region=site.region if site else None
            )
    return profile


def staff_set_active(*, actor, user: User, active: bool, reason: str = "") -> User:
    """Deactivate (or reactivate) an account. Everything the user did stays attributed to them."""
    if getattr(actor, "pk", None) == user.pk and not active:
        raise ValidationError(_("You cannot deactivate your own account."))
    _check_actor_may_manage(actor, user, action="staff.activate" if active else "staff.deactivate")
    if user.is_active == active:
        return user
    User.objects.filter(pk=user.pk).update(is_active=active)
    user.is_active = active
    audit_record(
        actor=actor, action="staff.activate" if active else "staff.deactivate", obj=user, changes={"reason": reason}
    )
    if not active:
        # Open websockets were authorised at their handshake; close them now, not at the next one.
        transaction.on_commit(lambda: _close_user_sockets(user.pk))
    return user


def _close_user_sockets(user_id: int) -> None:
    from core.live import group_send_many
    from staff.websocket import user_group

    group_send_many([user_group(user_id)], {"type": "user.deactivated"}, wait=True)


def staff_password_reset(*, actor, user: User, send_by: str = Notification.Channel.SMS) -> None:
    """A new random password, sent like the first one; the change is forced again."""
    if getattr(actor, "pk", None) != user.pk:
        _check_actor_may_manage(actor, user, action="staff.password_reset")
    if send_by == Notification.Channel.SMS and not user.phone:
        raise ValidationError(_("This user has no phone number; send the password by email."))
    if send_by == Notification.Channel.EMAIL and not user.email:
        raise ValidationError(_("This user has no email address; send the password by SMS."))
    password = password_generate()
    with transaction.atomic():
        user.set_password(password)
        user.must_change_password = True
        user.save(update_fields=["password", "must_change_password"])
        audit_record(actor=actor, action="staff.password_reset", obj=user)
        notification_send(
            template="staff_welcome",
            recipient=user,
            context={"username": user.username},
            secrets={"password": password},
            channels=[send_by],
        )


def user_password_changed(*, user: User) -> None:
    if user.must_change_password:
        User.objects.filter(pk=user.pk).update(must_change_password=False)
        user.must_change_password = False
    audit_record(actor=user, action="staff.password_change", obj=user)


# --- Grants of regions and stores (ADR 15) -----------------------------------------------------
# Whose grants a regional administrator manages: store staff and service staff.
REGIONAL_GRANTEE_ROLES = (CLERK, STORE_MANAGER, SERVICE_STAFF)
GRANT_ACTIONS = ("view", "change")


def grantee_may_be_managed(actor, user: User) -> bool:
    """Whether `actor` may give `user` regions and stores at all (the target is checked apart)."""
    from staff.policies import has_role

    if getattr(actor, "pk", None) == user.pk or not user.is_active:
        return False
    if user.is_superuser or has_role(user, PLATFORM_ADMIN):
        return False
    if has_role(actor, PLATFORM_ADMIN):
        return True
    roles = set(user.role_names)
    return has_role(actor, REGIONAL_ADMIN) and bool(roles) and roles <= set(REGIONAL_GRANTEE_ROLES)


def _check_grant(actor, user: User, target, *, action: str) -> None:
    from core.models import Region
    from core.scoping import user_can_reach
    from staff.policies import has_role

    region = target if isinstance(target, Region) else target.region
    if getattr(actor, "pk", None) == user.pk:
        _refuse(actor, action=action, obj=user, region=region, errors=_("Nobody gives themselves regions or stores."))
    if not has_role(actor, PLATFORM_ADMIN, REGIONAL_ADMIN):
        _refuse(actor, action=action, obj=user, region=region, errors=_("Only administrators give regions and stores."))
    if not user.is_active:
        _refuse(actor, action=action, obj=user, region=region, errors=_("This account is deactivated."))
    if user.is_superuser or has_role(user, PLATFORM_ADMIN):
        _refuse(
            actor,
            action=action,
            obj=user,
            region=region,
            errors=_("A platform administrator sees every region already."),
        )
    if not grantee_may_be_managed(actor, user):
        _refuse(
            actor,
            action=action,
            obj=user,
            region=region,
            errors=_("A regional administrator gives regions and stores to store staff and service staff only."),
        )
    if not has_role(actor, PLATFORM_ADMIN) and not user_can_reach(actor, target, "change"):
        _refuse(
            actor,
            action=action,
            obj=user,
            region=region,
            errors=_("%(target)s is outside your regions.") % {"target": target},
        )
    if set(user.role_names) <= set(STORE_ROLES) and isinstance(target, Region):
        _refuse(
            actor,
            action=action,
            obj=user,
            region=region,
            errors=_("Store staff work in stores: give them a store, not a region."),
        )


def staff_grant_add(*, actor, user: User, target, action: str = "view") -> None:
    """Give `user` a region (and everything under it) or a site, to see or to manage. Store staff
    get stores only, at the level of their role, and the store joins their profile's stores."""
    from core.models import Site

    if action not in GRANT_ACTIONS:
        raise ValidationError({"action": _("Choose to see or to manage.")})
    _check_grant(actor, user, target, action="scope.grant")
    roles = set(user.role_names)
    store_staff = bool(roles) and roles <= set(STORE_ROLES)
    if store_staff:
        action = "change" if STORE_MANAGER in roles else "view"
    with transaction.atomic():
        scope_grant(actor=actor, user=user, target=target, action=action)
        profile = StaffProfile.objects.filter(user=user).first()
        if store_staff and profile is not None and isinstance(target, Site):
            profile.sites.add(target)
    forget_grants(user)


def staff_grant_remove(*, actor, user: User, target) -> None:
    """Take a region or a site back (both levels); a store leaves the profile's stores too."""
    from core.models import Site

    _check_grant(actor, user, target, action="scope.revoke")
    with transaction.atomic():
        scope_revoke(actor=actor, user=user, target=target)
        profile = StaffProfile.objects.filter(user=user).first()
        if profile is not None and isinstance(target, Site):
            profile.sites.remove(target)
    forget_grants(user)


def staff_grants_of(user: User, *, viewer) -> list[dict]:
    """The regions and sites `user` holds, as far as `viewer` may change them."""
    from guardian.shortcuts import get_objects_for_user

    from core.models import Region, Site
    from core.scoping import user_grants

    rows = []
    for model, name in ((Region, "region"), (Site, "site")):
        change = get_objects_for_user(user, [f"core.change_{name}"], klass=model, accept_global_perms=False)
        view = get_objects_for_user(
            user, [f"core.view_{name}", f"core.change_{name}"], klass=model, any_perm=True, accept_global_perms=False
        )
        change_ids = set(change.values_list("pk", flat=True))
        visible = model.objects.restrict(viewer, "change") if not user_grants(viewer).everything else model.objects
        for target in visible.filter(pk__in=view.values("pk")).order_by("pk"):
            rows.append({"kind": name, "target": target, "change": target.pk in change_ids})
    return rows
