"""Region scoping, once: `Model.objects.restrict(user, action)` for every scoped model.

The NetBox pattern. A user's grants are django-guardian object permissions on regions and sites:
`core.view_region` / `core.change_region` on a region covers that region, its descendants and
their sites; `core.view_site` / `core.change_site` on a site covers that site. Platform
administrators (the `core.scope_all` permission, or superusers) see everything.

A scoped model says how its rows reach a region and a site with two class attributes:

    scope_region_path = "site__region__path"   # lookup to Region.path
    scope_site = "site"                        # lookup to the Site (or "pk" for Site itself)

Models that are not region-scoped but restricted another way (a supplier's products) override
`scope_filter(user, action)` on their queryset. Models with `scope_region_path = None` and no
override are global reference data: visible to every authenticated staff user.

Region-owned reference data a store works with (coupons, promotions, bonus tiers, rate plans,
anomaly rules) says `scope_store_sees_region = True`: a store (site) grant then also VIEWS the rows
owned by its store's region or one of that region's ancestors (rows of a model that also has a
site, only those with no site). It never changes them: a change needs a region grant
(docs/adr/0035).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

ACTIONS = ("view", "change")
SCOPE_ALL_PERMISSION = "core.scope_all"


@dataclass(frozen=True)
class Grants:
    everything: bool
    region_paths: tuple[str, ...]
    site_ids: tuple[int, ...]

    @property
    def empty(self) -> bool:
        return not self.everything and not self.region_paths and not self.site_ids


NO_GRANTS = Grants(everything=False, region_paths=(), site_ids=())


def user_grants(user, action: str = "view") -> Grants:
    """What `user` may see (action="view") or change (action="change"), cached on the user."""
    if action not in ACTIONS:
        raise ValueError(f"Unknown scope action {action!r}; expected one of {ACTIONS}.")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return NO_GRANTS
    cache = user.__dict__.setdefault("_scope_grants", {})
    if action in cache:
        return cache[action]
    if user.is_superuser or user.has_perm(SCOPE_ALL_PERMISSION):
        grants = Grants(everything=True, region_paths=(), site_ids=())
    else:
        from guardian.shortcuts import get_objects_for_user

        from core.models import Region, Site

        # A change grant implies a view grant.
        region_perms = ["core.change_region"] if action == "change" else ["core.view_region", "core.change_region"]
        site_perms = ["core.change_site"] if action == "change" else ["core.view_site", "core.change_site"]
        regions = get_objects_for_user(user, region_perms, klass=Region, any_perm=True, accept_global_perms=False)
        sites = get_objects_for_user(user, site_perms, klass=Site, any_perm=True, accept_global_perms=False)
        grants = Grants(
            everything=False,
            region_paths=tuple(sorted(set(regions.values_list("path", flat=True)))),
            site_ids=tuple(sorted(set(sites.values_list("pk", flat=True)))),
        )
    cache[action] = grants
    return grants


def forget_grants(user) -> None:
    """Drop the cached grants after they change (tests, the staff services)."""
    user.__dict__.pop("_scope_grants", None)
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_is_platform_admin"):
        user.__dict__.pop(attr, None)


def region_ids_under(paths) -> list[int]:
    """Ids of the regions at or below any of `paths` (a small table: read it, don't join it)."""
    from core.models import Region

    if not paths:
        return []
    q = Q()
    for path in paths:
        q |= Q(path__startswith=path)
    return sorted(Region.objects.filter(q).values_list("pk", flat=True))


def store_region_paths(site_ids) -> list[str]:
    """Paths of the regions of `site_ids` and of all their ancestors (a store sees what applies to it)."""
    from core.models import Site

    if not site_ids:
        return []
    paths = set()
    for path in Site.objects.filter(pk__in=site_ids).values_list("region__path", flat=True):
        if not path:
            continue
        parts = path.strip("/").split("/")
        lead = "/" if path.startswith("/") else ""
        tail = "/" if path.endswith("/") else ""
        for i in range(1, len(parts) + 1):
            paths.add(lead + "/".join(parts[:i]) + tail)
    return sorted(paths)


def region_scope_q(grants: Grants, *, region_path: str | None, site: str | None, region: str | None = None) -> Q | None:
    """A Q selecting rows inside `grants`; None means no restriction.

    A model with a direct foreign key to its region (`region`) is filtered by the ids of the
    granted regions, not by a join on their path: PostgreSQL estimates `region_id IN (1, 4, 7)`
    from its column statistics, where it guessed a path prefix join at a few thousand rows when
    four hundred thousand matched and sorted the whole table (issue 19, docs/adr/0025)."""
    if grants.everything:
        return None
    q = Q(pk__in=[])
    if region and grants.region_paths:
        q |= Q(**{f"{region}__in": region_ids_under(grants.region_paths)})
    elif region_path:
        for path in grants.region_paths:
            q |= Q(**{f"{region_path}__startswith": path})
    if site and grants.site_ids:
        q |= Q(**{f"{site}__in": grants.site_ids})
    return q


class RestrictedQuerySet(models.QuerySet):
    def scope_filter(self, user, action: str) -> Q | None:
        model = self.model
        region_path = getattr(model, "scope_region_path", None)
        site = getattr(model, "scope_site", None)
        if region_path is None and site is None:
            return None  # global reference data
        region = getattr(model, "scope_region", None)
        grants = user_grants(user, action)
        q = region_scope_q(grants, region_path=region_path, site=site, region=region)
        if q is not None and action == "view" and grants.site_ids and getattr(model, "scope_store_sees_region", False):
            # docs/adr/0035: a store grant reads its region's (and ancestors') reference rows.
            store_q = Q(**{f"{region_path}__in": store_region_paths(grants.site_ids)})
            if site:
                store_q &= Q(**{f"{site}__isnull": True})
            q |= store_q
        return q

    def restrict(self, user, action: str = "view"):
        if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        q = self.scope_filter(user, action)
        if q is None:
            return self.all()
        return self.filter(q).distinct() if self._scope_needs_distinct() else self.filter(q)

    def _scope_needs_distinct(self) -> bool:
        return bool(getattr(self.model, "scope_distinct", False))


RestrictedManager = models.Manager.from_queryset(RestrictedQuerySet)


def user_can_reach(user, obj, action: str = "view") -> bool:
    """Whether a single object is inside the user's scope."""
    return type(obj)._default_manager.restrict(user, action).filter(pk=obj.pk).exists()
