"""Console pages for DEX audit reads: the list, one read with its selections, and the upload."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from core.console import ScopedDetailView, ScopedListView, nav_register
from devices.models import Device
from gateway.models import DexRead, at_places
from gateway.services import dex_import


class DexReadListView(ScopedListView):
    model = DexRead
    url_name = "gateway:dex-list"
    detail_url_name = "gateway:dex-detail"
    title = _("DEX audits")
    select_related = ("device",)
    actions = [(_("Upload a DEX file"), "gateway:dex-upload", "gateway.add_dexread")]
    columns = [
        ("taken_at", _("Audit time")),
        ("received_at", _("Received")),
        ("device", _("Device")),
        ("source", _("Source")),
        ("vends_count", _("Paid vends (total)")),
        ("vends_value", _("Paid value (total)")),
        ("sales_count", _("Vends since previous read")),
        ("sales_value", _("Value since previous read")),
    ]
    money = {"vends_value", "sales_value"}

    @classmethod
    def cell(cls, obj, attr):
        value = ScopedListView.cell(obj, attr)
        return at_places(value, obj.currency_decimals) if attr in cls.money else value


class DexReadDetailView(ScopedDetailView):
    model = DexRead
    template_name = "gateway/dexread_detail.html"
    select_related = ("device",)


class DexUploadForm(forms.Form):
    device = forms.ModelChoiceField(queryset=Device.objects.none(), label=_("Device"))
    file = forms.FileField(label=_("DEX file"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["device"].queryset = Device.objects.restrict(user, "change").filter(kind=Device.Kind.VENDING)

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > 2_000_000:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return upload


def dex_upload(request):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not request.user.has_perm("gateway.add_dexread"):
        raise PermissionDenied
    form = DexUploadForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            read, created = dex_import(
                device=form.cleaned_data["device"],
                content=form.cleaned_data["file"].read(),
                source=DexRead.Source.UPLOAD,
                actor=request.user,
            )
        except ValidationError as error:
            form.add_error("file", error.message_dict.get("file", error.messages))
        else:
            if created:
                messages.success(request, _("DEX read stored."))
            else:
                messages.info(request, _("This file was already imported; nothing changed."))
            return redirect("gateway:dex-detail", pk=read.pk)
    return render(request, "gateway/dex_upload.html", {"form": form, "title": _("Upload a DEX file")})


nav_register(
    section=_("Fleet"), label=_("DEX audits"), url_name="gateway:dex-list", permission="gateway.view_dexread", order=23
)
