"""TOTP two-factor sign-in (django-otp), required for platform and regional administrators.

After the password, such a user is sent here until the session is verified: first to set up an
authenticator app (scan the QR code, confirm one code), afterwards to type the current code.
"""

from __future__ import annotations

import base64
import io

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.services import audit_record


class TokenForm(forms.Form):
    token = forms.CharField(
        label=gettext_lazy("Code from your authenticator app"),
        max_length=8,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


def _next(request) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return "core:dashboard"


def otp_verify(request):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not TOTPDevice.objects.filter(user=request.user, confirmed=True).exists():
        return redirect("staff:otp-setup")
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = match_token(request.user, form.cleaned_data["token"].strip())
        if device is None:
            audit_record(actor=request.user, action="staff.otp_failed", obj=request.user)
            form.add_error("token", _("This code is not valid. Use the current code from your app."))
        else:
            otp_login(request, device)
            return redirect(_next(request))
    return render(request, "staff/otp_verify.html", {"form": form, "next": request.GET.get("next", "")})


def otp_setup(request):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists() and not request.user.is_verified():
        return redirect("staff:otp-verify")
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
            otp_login(request, device)
            audit_record(actor=request.user, action="staff.otp_enrolled", obj=request.user)
            messages.success(request, _("Two-factor sign-in is set up."))
            return redirect(_next(request))
        form.add_error("token", _("This code is not valid. Check the time on your phone and try the next code."))
    import segno

    buffer = io.BytesIO()
    segno.make(device.config_url, error="m").save(buffer, kind="svg", scale=5, xmldecl=False, svgns=True)
    return render(
        request,
        "staff/otp_setup.html",
        {
            "form": form,
            "qr_svg": buffer.getvalue().decode(),
            "secret": base64.b32encode(device.bin_key).decode(),
            "next": request.GET.get("next", ""),
        },
    )


def needs_second_factor(user) -> bool:
    from staff.policies import has_role
    from staff.roles import PLATFORM_ADMIN, REGIONAL_ADMIN

    return user.is_superuser or has_role(user, PLATFORM_ADMIN, REGIONAL_ADMIN)
