from django import forms
from django.utils.translation import gettext_lazy as _

from catalog.models import Product


class ProductForm(forms.ModelForm):
    class Meta:
        model = Product
        fields = [
            "sku",
            "barcode",
            "name",
            "brand",
            "category",
            "spec",
            "flavour",
            "cost_price",
            "sale_price",
            "supplier",
            "image",
            "is_active",
        ]


class ProductImportForm(forms.Form):
    file = forms.FileField(label=_("CSV or XLSX file"))

    MAX_BYTES = 10 * 1024 * 1024

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > self.MAX_BYTES:
            raise forms.ValidationError(_("The file is larger than 10 MB."))
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise forms.ValidationError(_("Upload a .csv or .xlsx file."))
        return upload
