"""Console pages for API partners: the list, a create form whose answer shows the key and the
webhook secret once, a partner's page (edit what it may use, revoke its key) and the webhook
delivery log with a redeliver button. Scoped by region like every console page."""

from __future__ import annotations

import json

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.console import ScopedDetailView, ScopedListView, nav_register
from core.filters import ScopedModelChoiceFilter
from orders.forms import PartnerClientForm, PartnerEditForm
from orders.models import PartnerClient, WebhookDelivery
from orders.partners import partner_client_create, partner_client_revoke, partner_client_update, partner_key_rotate
from orders.webhooks import webhook_ping, webhook_redeliver

NO_STORE = "no-store"


class PartnerClientListView(ScopedListView):
    model = PartnerClient
    url_name = "orders:partner-list"
    detail_url_name = "orders:partner-detail"
    title = _("API partners")
    select_related = ("region",)
    columns = [
        ("name", _("Name")),
        ("kind", _("Kind")),
        ("region", _("Region")),
        ("key_prefix", _("Key")),
        ("webhook_url", _("Webhook URL")),
        ("is_active", _("Active")),
        ("last_used_at", _("Last used")),
        ("created_at", _("Created")),
    ]
    actions = [(_("New API partner"), "orders:partner-create", "orders.add_partnerclient")]


def partner_create(request):
    """Create a partner; the answer to the POST is the only place its key and secret appear."""
    if not request.user.has_perm("orders.add_partnerclient"):
        raise PermissionDenied
    form = PartnerClientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = partner_client_create(
                actor=request.user,
                name=data["name"],
                kind=data["kind"],
                region=data["region"],
                sites=data["sites"],
                banks=data["banks"],
                webhook_url=data["webhook_url"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            response = render(
                request,
                "orders/partner_created.html",
                {"client": issued.client, "key": issued.key, "webhook_secret": issued.webhook_secret},
            )
            response["Cache-Control"] = NO_STORE
            return response
    return render(request, "staff/form.html", {"form": form, "title": gettext("New API partner")})


class PartnerClientDetailView(ScopedDetailView):
    model = PartnerClient
    template_name = "orders/partner_detail.html"
    select_related = ("region", "created_by", "revoked_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            sites=self.object.sites.order_by("name"),
            banks=self.object.banks.select_related("site").order_by("name"),
            deliveries=WebhookDelivery.objects.filter(client=self.object).select_related("order")[:20],
        )
        return context


def _changeable_partner(request, pk) -> PartnerClient:
    if not request.user.has_perm("orders.change_partnerclient"):
        raise PermissionDenied
    return get_object_or_404(PartnerClient.objects.restrict(request.user, "change").select_related("region"), pk=pk)


def partner_edit(request, pk):
    client = _changeable_partner(request, pk)
    form = PartnerEditForm(request.POST or None, user=request.user, client=client)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            partner_client_update(
                client=client,
                actor=request.user,
                sites=data["sites"],
                banks=data["banks"],
                webhook_url=data["webhook_url"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, gettext("API partner %(name)s saved.") % {"name": client.name})
            return redirect("orders:partner-detail", pk=client.pk)
    title = gettext("Edit API partner %(name)s") % {"name": client.name}
    return render(request, "staff/form.html", {"form": form, "title": title})


def partner_revoke(request, pk):
    """GET asks to confirm; POST revokes the key at once."""
    client = _changeable_partner(request, pk)
    if request.method == "POST":
        partner_client_revoke(client=client, actor=request.user)
        messages.success(
            request, gettext("The API key of %(name)s is revoked; it stops working at once.") % {"name": client.name}
        )
        return redirect("orders:partner-detail", pk=client.pk)
    return render(request, "orders/partner_revoke.html", {"client": client})


def partner_key_new(request, pk):
    """GET asks to confirm; POST issues a new key (the old one stops working) and shows it once."""
    client = _changeable_partner(request, pk)
    if request.method == "POST":
        try:
            key = partner_key_rotate(client=client, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("orders:partner-detail", pk=client.pk)
        response = render(request, "orders/partner_created.html", {"client": client, "key": key, "rotated": True})
        response["Cache-Control"] = NO_STORE
        return response
    return render(request, "orders/partner_key_new.html", {"client": client})


def partner_ping(request, pk):
    """POST: send the partner a test (`ping`) webhook, to check its endpoint and signature."""
    client = _changeable_partner(request, pk)
    if request.method != "POST":
        return redirect("orders:partner-detail", pk=client.pk)
    try:
        delivery = webhook_ping(client=client)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("orders:partner-detail", pk=client.pk)
    messages.success(request, gettext("A test webhook is on its way."))
    return redirect("orders:webhook-delivery-detail", pk=delivery.pk)


class WebhookDeliveryFilter(django_filters.FilterSet):
    client = ScopedModelChoiceFilter(queryset=PartnerClient.objects.all(), label=_("API partner"))
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices, label=_("Status"))
    event = django_filters.CharFilter(label=_("Event"))
    order = django_filters.CharFilter(field_name="order__number", lookup_expr="iexact", label=_("Order number"))

    class Meta:
        model = WebhookDelivery
        fields = ["client", "status", "event", "order"]


class WebhookDeliveryListView(ScopedListView):
    model = WebhookDelivery
    url_name = "orders:webhook-delivery-list"
    detail_url_name = "orders:webhook-delivery-detail"
    title = _("Webhook deliveries")
    filterset_class = WebhookDeliveryFilter
    select_related = ("client", "order")
    columns = [
        ("created_at", _("Created")),
        ("client", _("API partner")),
        ("event", _("Event")),
        ("order", _("Order")),
        ("status", _("Status")),
        ("attempts", _("Attempts")),
        ("last_status_code", _("Last response")),
        ("last_error", _("Last error")),
        ("next_attempt_at", _("Next attempt")),
        ("delivered_at", _("Delivered at")),
    ]
    # The event code and the partner's answer are shown as they were sent and received.
    verbatim = ("event", "last_error")
    long_text = ("last_error",)  # a connection error quotes the whole URL


class WebhookDeliveryDetailView(ScopedDetailView):
    model = WebhookDelivery
    template_name = "orders/webhook_delivery_detail.html"
    select_related = ("client", "order")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["payload"] = json.dumps(self.object.payload, indent=2, ensure_ascii=False, sort_keys=True)
        # The event is a code, shown as sent (the heading's message stays "%(event)s to %(name)s").
        context["event_code"] = format_html('<code translate="no">{}</code>', self.object.event)
        return context

    def post(self, request, *args, **kwargs):
        """Redeliver: the same event again, as a new delivery."""
        if not request.user.has_perm("orders.change_webhookdelivery"):
            raise PermissionDenied
        delivery = get_object_or_404(
            WebhookDelivery.objects.restrict(request.user, "change").select_related("client__region"),
            pk=kwargs["pk"],
        )
        try:
            again = webhook_redeliver(delivery=delivery, actor=request.user)
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
            return redirect("orders:webhook-delivery-detail", pk=delivery.pk)
        messages.success(request, gettext("The event is queued for delivery again."))
        return redirect("orders:webhook-delivery-detail", pk=again.pk)


nav_register(
    section=_("Orders"),
    label=_("API partners"),
    url_name="orders:partner-list",
    permission="orders.add_partnerclient",
    order=80,
)
nav_register(
    section=_("Orders"),
    label=_("Webhook deliveries"),
    url_name="orders:webhook-delivery-list",
    permission="orders.change_webhookdelivery",
    order=81,
)
