"""Console forms of delivery orders: the order and its recipient, its lines, the import and the
platforms' column mappings."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from catalog.models import Product
from core.forms import ScopedChoicesMixin, preselect_only_choice
from core.models import Region
from fulfilment.models import PlatformMapping, ShippingMethod
from members.models import Customer


class RecipientForm(forms.Form):
    recipient_name = forms.CharField(label=_("Recipient"), max_length=100)
    phone = forms.CharField(label=_("Phone"), max_length=32)
    province = forms.CharField(label=_("Province"), max_length=50)
    city = forms.CharField(label=_("City"), max_length=50)
    district = forms.CharField(label=_("District"), max_length=50, required=False)
    address = forms.CharField(label=_("Street address"), max_length=255)
    postcode = forms.CharField(label=_("Postcode"), max_length=12, required=False)
    shipping_method = forms.ChoiceField(label=_("Shipping method"), choices=ShippingMethod.choices)


class DeliveryOrderForm(ScopedChoicesMixin, RecipientForm):
    """A new delivery order: where it belongs, who it is for and where it goes."""

    choice_action = "change"
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all())
    customer_phone = forms.CharField(
        label=_("Customer's phone"),
        max_length=32,
        required=False,
        help_text=_("Optional: a member of your regions the order counts for."),
    )
    field_order = ["region", "customer_phone"]

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        preselect_only_choice(self, "region")

    def clean_customer_phone(self):
        phone = self.cleaned_data["customer_phone"].strip()
        if not phone:
            return None
        customer = Customer.objects.restrict(self.user, "view").filter(phone=phone).first()
        if customer is None:
            raise ValidationError(_("No customer with this phone in your regions."))
        return customer


class LineForm(forms.Form):
    """One line: a product of the catalog, a quantity, and a price (empty: the catalog's)."""

    product = forms.ModelChoiceField(
        label=_("Product"), queryset=Product.objects.filter(is_active=True).order_by("name"), required=False
    )
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100000, required=False)
    unit_price = forms.DecimalField(
        label=_("Unit price"),
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        help_text=_("Empty: the catalog price."),
    )

    def clean(self):
        data = super().clean()
        if data.get("product") and not data.get("quantity"):
            self.add_error("quantity", _("How many?"))
        if data.get("quantity") and not data.get("product"):
            self.add_error("product", _("Choose a product."))
        return data


LineFormSet = forms.formset_factory(LineForm, extra=3, max_num=50, validate_max=True)


class DeliveryImportForm(ScopedChoicesMixin, forms.Form):
    choice_action = "change"
    region = forms.ModelChoiceField(label=_("Region"), queryset=Region.objects.all())
    mapping = forms.ModelChoiceField(label=_("Platform"), queryset=PlatformMapping.objects.all())
    file = forms.FileField(label=_("File (CSV or XLSX)"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, user=user, **kwargs)
        preselect_only_choice(self, "region")


class MappingForm(forms.Form):
    """One text field per field the import reads: the column header of the platform's file."""

    name = forms.CharField(label=_("Name"), max_length=100)

    def __init__(self, *args, mapping: PlatformMapping, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial.setdefault("name", mapping.name)
        for field, label in PlatformMapping.FIELDS:
            self.fields[f"col_{field}"] = forms.CharField(
                label=label,
                max_length=60,
                required=field in PlatformMapping.REQUIRED,
                initial=mapping.columns.get(field, ""),
            )

    def columns(self) -> dict:
        return {
            field: self.cleaned_data[f"col_{field}"].strip()
            for field, _label in PlatformMapping.FIELDS
            if self.cleaned_data.get(f"col_{field}", "").strip()
        }
