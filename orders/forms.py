"""Console forms of the order spine: API partners."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.forms import ScopedChoicesMixin
from core.models import Region, Site
from devices.models import Device
from orders.models import PartnerClient
from orders.partners import partner_scope_check, webhook_url_check


class PartnerScopeForm(ScopedChoicesMixin, forms.Form):
    """What a partner may use and where its webhooks go; every choice is within the user's scope."""

    choice_action = "change"

    sites = forms.ModelMultipleChoiceField(
        label=_("Stores and sites"),
        queryset=Site.objects.filter(is_active=True).order_by("name"),
        required=False,
        help_text=_("Where this partner may create pickup orders."),
    )
    banks = forms.ModelMultipleChoiceField(
        label=_("Locker banks"),
        queryset=Device.objects.filter(kind=Device.Kind.LOCKER).order_by("name"),
        required=False,
        help_text=_("Where this partner may create locker orders."),
    )
    webhook_url = forms.URLField(
        label=_("Webhook URL"),
        max_length=500,
        required=False,
        assume_scheme="https",
        help_text=_("Order status changes are POSTed here, signed. https:// only in production."),
    )

    def region_for_check(self):
        raise NotImplementedError

    def clean_webhook_url(self):
        url = self.cleaned_data.get("webhook_url", "")
        try:
            webhook_url_check(url)
        except ValidationError as error:
            raise ValidationError(error.message_dict.get("webhook_url", error.messages)) from None
        return url

    def clean(self):
        data = super().clean()
        region = self.region_for_check()
        if region is not None and not self.errors:
            try:
                partner_scope_check(region=region, sites=data.get("sites") or (), banks=data.get("banks") or ())
            except ValidationError as error:
                self.add_error(None, error)
        return data


class PartnerClientForm(PartnerScopeForm):
    field_order = ["name", "kind", "region", "sites", "banks", "webhook_url"]

    name = forms.CharField(label=_("Name"), max_length=120)
    kind = forms.ChoiceField(label=_("Kind"), choices=PartnerClient.Kind.choices)
    region = forms.ModelChoiceField(
        label=_("Region"),
        queryset=Region.objects.all(),
        help_text=_("The partner's stores and banks lie in this region; its administrators manage it."),
    )

    def region_for_check(self):
        return self.cleaned_data.get("region")


class PartnerEditForm(PartnerScopeForm):
    def __init__(self, *args, client: PartnerClient | None = None, **kwargs):
        self.client = client
        if client is not None:
            kwargs.setdefault(
                "initial",
                {"sites": client.sites.all(), "banks": client.banks.all(), "webhook_url": client.webhook_url},
            )
        super().__init__(*args, **kwargs)

    def region_for_check(self):
        return self.client.region
