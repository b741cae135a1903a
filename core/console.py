"""Building blocks of the server-rendered console: the navigation registry and scoped list /
detail views.

Every list page derives from `ScopedListView`; subclasses with a `url_name` are recorded in
`LIST_PAGES`, which the generated scoping and browser tests walk, so a new page is tested the day
it exists. Navigation entries are shown only to users holding the entry's permission.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.urls import reverse
from django.utils.translation import gettext
from django.views.generic import DetailView, ListView

from core.labels import label


@dataclass(frozen=True)
class NavItem:
    section: str
    label: str
    url_name: str
    permission: str | None
    order: int = 100
    # A page only some holders of the permission have a use for (rating colleagues: store staff).
    when: Callable[[object], bool] | None = None


NAV: list[NavItem] = []
LIST_PAGES: list[type] = []


def nav_register(*, section, label, url_name, permission=None, order=100, when=None) -> None:
    if any(item.url_name == url_name for item in NAV):
        return
    NAV.append(NavItem(section=section, label=label, url_name=url_name, permission=permission, order=order, when=when))


def nav_for(user) -> list[dict]:
    """Navigation grouped by section, only with what `user` may open."""
    sections: dict[str, list[dict]] = {}
    for item in sorted(NAV, key=lambda i: (i.order, str(i.label))):
        if item.permission and not user.has_perm(item.permission):
            continue
        if item.when is not None and not item.when(user):
            continue
        sections.setdefault(str(item.section), []).append(
            {"label": item.label, "url": reverse(item.url_name), "url_name": item.url_name}
        )
    return [{"section": name, "items": items} for name, items in sections.items()]


class ConsoleMixin(LoginRequiredMixin, PermissionRequiredMixin):
    raise_exception = False

    def handle_no_permission(self):
        from django.core.exceptions import PermissionDenied

        if self.request.user.is_authenticated:
            raise PermissionDenied
        return super().handle_no_permission()


class ScopedListView(ConsoleMixin, ListView):
    """A list of scoped rows with django-filter filters, pagination and declared columns."""

    template_name = "core/list.html"
    paginate_by = 50
    filterset_class = None
    columns: list[tuple[str, str]] = []  # (attribute path, header)
    title = ""
    url_name = ""  # "app:name"; set on concrete pages so tests find them
    detail_url_name = ""  # "app:name" taking pk
    select_related: tuple[str, ...] = ()
    actions: list[tuple[str, str, str]] = []  # (label, url_name, permission)
    labels: dict[str, str] = {}  # column attribute -> core.labels domain of the codes it holds
    # Columns shown exactly as stored (a technical code, JSON), marked translate="no" for readers,
    # browsers' translators and the zh-hans check (tests/i18n).
    verbatim: tuple[str, ...] = ()
    # Columns of free text beyond the text and JSON fields found by column_classes() (an error
    # message in a short field, with a URL in it).
    long_text: tuple[str, ...] = ()
    # Columns whose header sorts the list (`?ordering=attr` or `-attr`): only indexed ones on big
    # tables. An unknown key is ignored. Ties are broken by the primary key.
    sortable: tuple[str, ...] = ()
    # Columns that cannot be hidden with the "Columns" menu; by default the first (the link).
    essential: tuple[str, ...] | None = None
    ORDERING_PARAM = "ordering"
    COLUMNS_SESSION_KEY = "list_columns"

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.url_name:
            LIST_PAGES.append(cls)

    def get_permission_required(self):
        if self.permission_required:
            return super().get_permission_required()
        meta = self.model._meta
        return [f"{meta.app_label}.view_{meta.model_name}"]

    def base_queryset(self):
        return self.model._default_manager.restrict(self.request.user, "view").select_related(*self.select_related)

    def get(self, request, *args, **kwargs):
        if "columns" in request.GET:
            return self.save_columns(request)
        return super().get(request, *args, **kwargs)

    # --- Sorting and column choice (docs/adr/0026) ---------------------------------------------
    def requested_ordering(self) -> str | None:
        """The `?ordering=` key when it names a sortable column ("-" for descending), else None."""
        text = (self.request.GET.get(self.ORDERING_PARAM) or "").strip()
        return text if text and text.lstrip("-") in self.sortable and text.count("-") <= 1 else None

    def essential_columns(self) -> tuple[str, ...]:
        if self.essential is not None:
            return self.essential
        return (self.columns[0][0],) if self.columns else ()

    def columns_key(self) -> str:
        return self.url_name or f"{type(self).__module__}.{type(self).__name__}"

    def hidden_columns(self) -> set[str]:
        stored = self.request.session.get(self.COLUMNS_SESSION_KEY, {}).get(self.columns_key(), [])
        return {attr for attr in stored if attr not in self.essential_columns()}

    def save_columns(self, request):
        """The "Columns" menu (a GET form): remember the hidden columns of this list for this
        user's session, or forget them ("reset"), then show the list again with its filters."""
        from django.shortcuts import redirect

        known = {attr for attr, _ in self.columns}
        choices = dict(request.session.get(self.COLUMNS_SESSION_KEY, {}))
        if request.GET.get("columns") == "reset":
            choices.pop(self.columns_key(), None)
        else:
            shown = set(request.GET.getlist("show"))
            choices[self.columns_key()] = sorted(known - shown - set(self.essential_columns()))
        request.session[self.COLUMNS_SESSION_KEY] = choices
        query = request.GET.copy()
        for key in ("columns", "show", "page", "cursor"):
            query.pop(key, None)
        return redirect(f"{request.path}?{query.urlencode()}" if query else request.path)

    def visible_columns(self) -> list[tuple[str, str]]:
        hidden = self.hidden_columns()
        return [(attr, header) for attr, header in self.columns if attr not in hidden]

    def header_cells(self, current: str | None) -> list[dict]:
        """Headers with, for sortable columns, the link that sorts by them (ascending first, the
        other way when already sorted so) and the aria-sort of the current one."""
        query = self.request.GET.copy()
        for key in ("page", "cursor", self.ORDERING_PARAM):
            query.pop(key, None)
        headers = []
        for attr, header in self.visible_columns():
            cell = {"attr": attr, "label": header, "url": "", "direction": ""}
            if attr in self.sortable:
                if current == attr:
                    cell["direction"], next_key = "ascending", f"-{attr}"
                elif current == f"-{attr}":
                    cell["direction"], next_key = "descending", attr
                else:
                    next_key = attr
                query[self.ORDERING_PARAM] = next_key
                cell["url"] = f"?{query.urlencode()}"
            headers.append(cell)
        return headers

    def current_ordering(self) -> str | None:
        requested = self.requested_ordering()
        if requested:
            return requested
        default = list(self.model._meta.ordering or [])
        return default[0] if default and default[0].lstrip("-") in self.sortable else None

    def get_queryset(self):
        queryset = self.base_queryset()
        if self.filterset_class is not None:
            self.filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
            queryset = self.filterset.qs if self.filterset.is_bound and self.filterset.is_valid() else queryset
        else:
            self.filterset = None
        requested = self.requested_ordering()
        if requested:
            sign = "-" if requested.startswith("-") else ""
            queryset = queryset.order_by(requested, f"{sign}pk")
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        rows = []
        visible = self.visible_columns()
        for obj in context["object_list"]:
            rows.append(
                {
                    "object": obj,
                    "cells": [(attr, self.labelled_cell(obj, attr)) for attr, _ in visible],
                    "url": reverse(self.detail_url_name, args=[obj.pk]) if self.detail_url_name else "",
                }
            )
        query = self.request.GET.copy()
        query.pop("page", None)
        hidden = self.hidden_columns()
        essential = self.essential_columns()
        keep = self.request.GET.copy()
        for key in ("page", "cursor", "columns", "show"):
            keep.pop(key, None)
        classes = self.column_classes()
        # An empty list says why: nothing matches the filters (with the way back to everything),
        # or nothing exists yet (with the page's first action, e.g. "Add a product").
        not_filters = {"page", "cursor", "columns", "show", self.ORDERING_PARAM}
        filtered = any(value for key, value in self.request.GET.items() if key not in not_filters)
        context.update(
            title=self.title or self.model._meta.verbose_name_plural,
            headers=self.header_cells(self.current_ordering()),
            shown_columns={attr for attr, _ in visible},
            column_choices=[
                {"attr": attr, "label": header, "shown": attr not in hidden, "essential": attr in essential}
                for attr, header in self.columns
            ],
            columns_hidden=bool(hidden),
            requested_ordering=self.requested_ordering(),
            columns_keep=[(key, value) for key in keep for value in keep.getlist(key)],
            verbatim=self.verbatim,
            filtered=filtered,
            long_text={attr for attr, kind in classes.items() if kind == "long"},
            when_columns={attr for attr, kind in classes.items() if kind == "when"},
            rows=rows,
            filterset=self.filterset,
            querystring=query.urlencode(),
            actions=[
                {"label": label, "url": reverse(url_name)}
                for label, url_name, permission in self.actions
                if not permission or self.request.user.has_perm(permission)
            ],
        )
        return context

    def column_classes(self) -> dict[str, str]:
        """The cell class of a column by what its field holds: free text (a message, a payload, a
        note) breaks anywhere instead of widening the table past the page ("long"); a date or a
        time keeps to one line ("when"). Fields of the model itself or along the column's path;
        a property or a method gets none."""
        from django.core.exceptions import FieldDoesNotExist
        from django.db import models

        found = dict.fromkeys(self.long_text, "long")
        for attr, _label in self.columns:
            if attr in found:
                continue
            model, field = self.model, None
            try:
                for part in attr.split("__"):
                    field = model._meta.get_field(part)
                    model = field.related_model or model
            except FieldDoesNotExist:
                continue
            if isinstance(field, (models.TextField, models.JSONField)):
                found[attr] = "long"
            elif isinstance(field, (models.DateField, models.TimeField)):  # DateTimeField is a DateField
                found[attr] = "when"
        return found

    def labelled_cell(self, obj, attr):
        value = self.cell(obj, attr)
        return label(self.labels[attr], value) if attr in self.labels else value

    @staticmethod
    def cell(obj, attr):
        value = obj
        for part in attr.split("__"):
            if value is None:
                return ""
            display = getattr(value, f"get_{part}_display", None)
            value = display() if callable(display) else getattr(value, part)
        if isinstance(value, bool):
            return gettext("Yes") if value else gettext("No")
        return "" if value is None else value


class ScopedDetailView(ConsoleMixin, DetailView):
    """A detail page; objects outside the caller's scope answer 404, not 403, to leak nothing."""

    select_related: tuple[str, ...] = ()

    def get_permission_required(self):
        if self.permission_required:
            return super().get_permission_required()
        meta = self.model._meta
        return [f"{meta.app_label}.view_{meta.model_name}"]

    def get_queryset(self):
        return self.model._default_manager.restrict(self.request.user, "view").select_related(*self.select_related)


def form_page(request, *, form, permission: str, title, success_url: str, audit_action: str, message):
    """The usual create page: refuse without `permission`, save a valid form, write the audit
    entry (with the region of what was saved), say so and go back to the list."""
    from django.contrib import messages
    from django.core.exceptions import PermissionDenied
    from django.shortcuts import redirect, render

    from core.services import audit_record

    if not request.user.has_perm(permission):
        raise PermissionDenied
    if request.method == "POST" and form.is_valid():
        saved = form.save()
        audit_record(
            actor=request.user,
            action=audit_action,
            obj=saved,
            changes={k: str(v) for k, v in form.cleaned_data.items() if k in form.changed_data},
            region=getattr(saved, "region", None),
        )
        messages.success(request, message(saved) if callable(message) else message)
        return redirect(success_url)
    return render(request, "staff/form.html", {"form": form, "title": title})


class KeysetListView(ScopedListView):
    """A scoped list for tables too large for page numbers: "newer / older" links that carry a
    cursor (core.pagination), and a count that is bounded or estimated, never a full COUNT(*).

    `?page=N` (an old bookmark) is honoured up to OFFSET_PAGES pages, where an offset is still
    cheap; deeper, the first page is shown with a message saying why."""

    template_name = "core/list.html"
    paginate_by = None
    page_size = 50
    ordering_key = "-created_at"
    # Filters that leave few rows (a search): with one of them, the matches are sorted rather
    # than found by walking the ordering's index (core.pagination.Ordering.sort_matches).
    selective_filters: tuple[str, ...] = ()
    OFFSET_PAGES = 20

    def current_ordering(self) -> str:
        return self.requested_ordering() or self.ordering_key

    def get_context_data(self, **kwargs):
        from django.contrib import messages
        from django.utils.translation import gettext as _

        from core.pagination import BadCursor, Ordering, bounded_count, keyset_page

        selective = any(self.request.GET.get(name) for name in self.selective_filters)
        ordering = Ordering.parse(self.current_ordering(), sort_matches=selective)
        queryset = self.object_list
        cursor = self.request.GET.get("cursor") or None
        page_number = self.request.GET.get("page")
        page = None
        offset_page = None
        if page_number and not cursor:
            try:
                offset_page = int(page_number)
            except ValueError:
                offset_page = None
            if offset_page is None or offset_page < 1 or offset_page > self.OFFSET_PAGES:
                messages.info(
                    self.request,
                    _("Page numbers go up to %(n)s here. Use “Older” to go further, or narrow the list with a filter.")
                    % {"n": self.OFFSET_PAGES},
                )
                offset_page = None
        if offset_page and offset_page > 1:
            start = (offset_page - 1) * self.page_size
            rows = list(queryset.order_by(*ordering.order_by())[start : start + self.page_size + 1])
            from core.pagination import KeysetPage, encode_cursor

            more = len(rows) > self.page_size
            rows = rows[: self.page_size]
            page = KeysetPage(
                rows,
                encode_cursor(ordering, rows[-1], direction="next") if more and rows else None,
                encode_cursor(ordering, rows[0], direction="prev") if rows else None,
            )
        if page is None:
            try:
                page = keyset_page(queryset, ordering=ordering, size=self.page_size, cursor=cursor)
            except BadCursor as exc:
                messages.warning(self.request, exc.messages[0])
                page = keyset_page(queryset, ordering=ordering, size=self.page_size)
        context = super().get_context_data(object_list=page.rows, **kwargs)
        query = self.request.GET.copy()
        for key in ("page", "cursor"):
            query.pop(key, None)
        context.update(
            keyset=True,
            keyset_page=page,
            # "Newer / Older" while the list runs by date; "Previous / Next" under another sort.
            keyset_by_date=ordering.key == self.ordering_key,
            querystring=query.urlencode(),
            count=bounded_count(queryset),
        )
        return context
