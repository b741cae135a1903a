"""Every registered admin, as every role, against the role's matrix (issue 15, item 1; ADR 8).

Generated from `admin.site._registry` and `staff.roles.ROLE_PERMISSIONS`, so a newly registered
admin is covered the day it exists. For each role (made `is_staff`, so only the permission checks
stand in the way) and each admin, the changelist, the add form and a change form are requested:

- a page opens exactly when the role's permissions (less `PLATFORM_ONLY`) grant it and the admin
  offers it; a model that cannot be scoped (no `restrict()`) opens for the platform administrator
  only; a change form never allows changing more than the role's change permission and grants;
- a changelist lists only rows inside the role's grants, its filters name only related rows
  inside them, and a row of a region outside them has no change form for the role;
- no form a non-platform role opens has an editable account field (password, superuser, staff,
  groups, permissions) or an editable reference to a model only the platform may see.
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.urls import reverse

from staff.roles import PLATFORM_ADMIN, ROLE_PERMISSIONS, _matches, is_platform_only
from tests.factories import SCOPED_BUILDERS, SUPPLIER_BUILDERS

pytestmark = pytest.mark.django_db

ACCOUNT_FIELDS = {"password", "is_superuser", "is_staff", "groups", "user_permissions"}
MISSING_PK = 987654321
# Roles whose grants in the test world do not reach the West region.
WEST_IS_OUTSIDE = {"regional_admin", "store_manager", "clerk", "service_staff", "supplier"}


def _registered():
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def _role_user(world, role):
    user = {
        PLATFORM_ADMIN: world.admin,
        "regional_admin": world.regional,
        "store_manager": world.manager,
        "clerk": world.clerk,
        "service_staff": world.service,
        "supplier": world.supplier_user,
        "finance": world.finance,
        "partner": world.partner_user,
    }[role]
    user.is_staff = True
    user.save()
    return user


def _scoped(model) -> bool:
    return hasattr(model._default_manager, "restrict")


def _visible(model, user, pk, action="view") -> bool:
    """Whether row `pk` is inside the user's grants; a model that cannot be scoped has none."""
    return _scoped(model) and model._default_manager.restrict(user, action).filter(pk=pk).exists()


def _role_may(role, model, action) -> bool:
    """The matrix: the role's permission patterns, never a platform-only permission."""
    opts = model._meta
    codename = get_permission_codename(action, opts)
    if role == PLATFORM_ADMIN:
        return True
    if is_platform_only(opts.app_label, codename) or not _scoped(model):
        return False
    return any(_matches(pattern, opts.app_label, codename) for pattern in ROLE_PERMISSIONS[role])


class _Request:
    def __init__(self, user):
        self.user = user
        self.GET = {}
        self.method = "GET"


def _offered(model_admin, user, action) -> bool:
    """What the admin offers at all, asked as the platform administrator."""
    request = _Request(user)
    return {
        "view": model_admin.has_view_or_change_permission,
        "add": model_admin.has_add_permission,
        "change": model_admin.has_change_permission,
    }[action](request)


@pytest.fixture
def rows(world):
    """One row of every model that has a builder, in East and in West."""
    built = {}
    for model, build in SCOPED_BUILDERS.items():
        built[model] = (build(world.east), build(world.west))
    for model, build in SUPPLIER_BUILDERS.items():
        built[model] = (build(world.supplier), build(world.other_supplier))
    return built


def _editable_form_fields(response):
    adminform = response.context.get("adminform") if response.context else None
    return adminform.form.fields if adminform is not None else {}


@pytest.mark.parametrize("role", list(ROLE_PERMISSIONS))
def test_every_admin_page_as(role, world, rows, client):
    user = _role_user(world, role)
    platform = _role_user(world, PLATFORM_ADMIN)
    client.force_login(user)
    wrong = []
    checked = 0
    for model, model_admin in _registered():
        opts = model._meta
        info = f"{opts.app_label}_{opts.model_name}"
        label = opts.label

        def expect(action, model=model, model_admin=model_admin):
            offered = _offered(model_admin, platform, action)
            if action == "view":
                return offered and (_role_may(role, model, "view") or _role_may(role, model, "change"))
            return offered and _role_may(role, model, action)

        # The changelist.
        response = client.get(reverse(f"admin:{info}_changelist"))
        checked += 1
        if response.status_code >= 500 or response.status_code not in (200, 403):
            wrong.append(f"{label} changelist: {response.status_code}")
            continue
        shown = response.status_code == 200
        if shown != expect("view"):
            wrong.append(
                f"{label} changelist: {'open' if shown else 'closed'}, matrix says {'open' if expect('view') else 'closed'}"
            )
        if shown and role != PLATFORM_ADMIN and _scoped(model):
            listed = list(response.context["cl"].result_list)
            inside = set(model._default_manager.restrict(user, "view").values_list("pk", flat=True))
            outside = [obj.pk for obj in listed if obj.pk not in inside]
            if outside:
                wrong.append(f"{label} changelist lists rows outside the grants: {outside}")
            wrong += _filters_beyond_grants(label, response.context["cl"], user)
            if model in rows and role in WEST_IS_OUTSIDE and model not in SUPPLIER_BUILDERS:
                if rows[model][1].pk in {obj.pk for obj in listed}:
                    wrong.append(f"{label} changelist lists the West row")

        # The add form.
        response = client.get(reverse(f"admin:{info}_add"))
        checked += 1
        if response.status_code not in (200, 403):
            wrong.append(f"{label} add: {response.status_code}")
        else:
            opened = response.status_code == 200
            if opened != expect("add"):
                wrong.append(
                    f"{label} add: {'open' if opened else 'closed'}, matrix says {'open' if expect('add') else 'closed'}"
                )
            if opened and role != PLATFORM_ADMIN:
                wrong += _account_fields(label, "add", _editable_form_fields(response), model)

        # A change form: a row inside the grants where there is one, else a missing id (the
        # permission is checked before the row is looked up: 403 closed, a redirect open).
        inside_row = None
        if model in rows:
            inside_row = rows[model][0]
        elif model._default_manager.exists():
            inside_row = model._default_manager.order_by("pk").first()
        pk = inside_row.pk if inside_row is not None else MISSING_PK
        response = client.get(reverse(f"admin:{info}_change", args=[pk]))
        checked += 1
        if response.status_code not in (200, 302, 403):
            wrong.append(f"{label} change: {response.status_code}")
            continue
        if response.status_code == 200:
            may_change = response.context["has_change_permission"]
            if not expect("view"):
                wrong.append(f"{label} change form opens, matrix says closed")
            if may_change and not (
                role == PLATFORM_ADMIN or (expect("change") and _visible(model, user, pk, "change"))
            ):
                wrong.append(f"{label} change form allows changing row {pk} beyond the matrix or grants")
            if may_change and role != PLATFORM_ADMIN:
                wrong += _account_fields(label, "change", _editable_form_fields(response), model)
        elif response.status_code == 403 and expect("view") and (inside_row is None or _visible(model, user, pk)):
            wrong.append(f"{label} change: closed, matrix says open")
        elif response.status_code == 302 and not expect("view"):
            wrong.append(f"{label} change: open (redirect), matrix says closed")

        # A row of a region outside the grants has no change form.
        if model in rows and role in WEST_IS_OUTSIDE and model not in SUPPLIER_BUILDERS:
            response = client.get(reverse(f"admin:{info}_change", args=[rows[model][1].pk]))
            checked += 1
            if response.status_code == 200:
                wrong.append(f"{label} change form of the West row opens")
    assert checked >= 3 * len(admin.site._registry)
    assert not wrong, "\n".join(wrong)


def _filters_beyond_grants(label, changelist, user):
    """A filter on a related field names only related rows the user may see."""
    found = []
    for spec in changelist.filter_specs:
        field = getattr(spec, "field", None)
        if field is None or not field.is_relation or not _scoped(field.related_model):
            continue
        offered = {pk for pk, _name in getattr(spec, "lookup_choices", [])}
        visible = set(field.related_model._default_manager.restrict(user, "view").values_list("pk", flat=True))
        if offered - visible:
            found.append(f"{label} changelist filter {field.name!r} names rows outside the grants")
    return found


def _account_fields(label, form, fields, model):
    found = []
    for name in fields:
        if name in ACCOUNT_FIELDS:
            found.append(f"{label} {form} form: editable account field {name!r}")
            continue
        try:
            field = model._meta.get_field(name)
        except Exception:
            continue
        if field.is_relation and field.related_model is not None and not _scoped(field.related_model):
            found.append(f"{label} {form} form: editable reference {name!r} to {field.related_model._meta.label}")
    return found


def test_every_registered_admin_is_walked():
    """The walk above reads the registry, so this only guards that it is not empty and that the
    account and role admins are in it."""
    labels = {model._meta.label for model in admin.site._registry}
    assert {"staff.User", "auth.Group", "staff.StaffProfile", "core.Site"} <= labels
