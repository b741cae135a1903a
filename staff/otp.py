"""TOTP two-factor sign-in (django-otp), required for platform and regional administrators.

After the password, such a user is sent here until the session is verified: first to set up an
authenticator app (scan the QR code, confirm one code), afterwards to type the current code.

The first device needs more than the password: a one-time enrolment link sent to the user's own
email address (or phone), or issued by a platform administrator (`otp_enrolment_link` command).
Opening it while signed in as that user lets this browser session show the QR code and confirm the
device; someone who only knows the password never sees the secret. A user whose session is
already verified replaces their device without a link.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import secrets

from django import forms
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import login as otp_login
from django_otp import match_token
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.services import RateLimited, audit_record, notification_send, rate_take
from staff.models import OtpEnrolment

ENROLMENT_TTL = datetime.timedelta(minutes=30)
# How long after opening the link this session may set up its device.
ENROLMENT_SESSION_TTL = datetime.timedelta(minutes=30)
ENROLMENT_SEND_LIMITS = ("1/min", "5/day")
SESSION_KEY = "otp_enrolment"


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


# --- Enrolment links ---------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _masked(address: str) -> str:
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return address[-4:].rjust(len(address), "*")


def otp_enrolment_destination(user) -> tuple[str, str]:
    """(channel, address) the user's own link goes to: email first, else SMS; ("", "") if neither."""
    if user.email:
        return "email", user.email
    if user.phone:
        return "sms", user.phone
    return "", ""


def _enrolment_create(*, user, sent_to: str, issued_by=None) -> str:
    """A new one-time token for `user`; earlier unused ones stop working. Only its hash is kept."""
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    OtpEnrolment.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(expires_at=now)
    OtpEnrolment.objects.create(
        user=user, token_hash=_token_hash(token), sent_to=sent_to, issued_by=issued_by, expires_at=now + ENROLMENT_TTL
    )
    return token


@transaction.atomic
def otp_enrolment_send(*, user, link_for) -> None:
    """Send `user` their enrolment link (`link_for(token)` makes it absolute) to their own email
    address, or phone when they have no email; the stored message has the link masked."""
    channel, address = otp_enrolment_destination(user)
    if not channel:
        raise ValueError("This user has no email address or phone number.")
    token = _enrolment_create(user=user, sent_to=_masked(address))
    notification_send(
        template="staff_otp_enrolment", recipient=user, channels=[channel], secrets={"link": link_for(token)}
    )
    audit_record(actor=user, action="staff.otp_enrolment_sent", obj=user, changes={"sent_to": _masked(address)})


@transaction.atomic
def otp_enrolment_hand_over(*, user, issued_by=None, label: str = "") -> str:
    """A token a platform administrator (or the operator at the server's shell, `label`) gives the
    user in person, for users without an email address or phone, or the very first administrator."""
    token = _enrolment_create(user=user, sent_to="", issued_by=issued_by)
    audit_record(
        actor=issued_by, label=label, action="staff.otp_enrolment_handed_over", obj=user, changes={"user": user.pk}
    )
    return token


def otp_enrolment_redeem(*, user, token: str) -> bool:
    """Use the token once, if it is this user's, unused and unexpired."""
    now = timezone.now()
    used = OtpEnrolment.objects.filter(
        user=user, token_hash=_token_hash(token or ""), used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if used:
        audit_record(actor=user, action="staff.otp_enrolment_opened", obj=user)
    return bool(used)


def _may_enrol(request) -> bool:
    """A verified session replaces its device freely; a first device needs an opened link."""
    if request.user.is_verified():
        return True
    grant = request.session.get(SESSION_KEY) or {}
    return grant.get("user") == request.user.pk and grant.get("until", 0) > timezone.now().timestamp()


def otp_enrol(request, token: str):
    """The link from the email or SMS: opened while signed in as its user, it lets this session
    set up the first device."""
    if not request.user.is_authenticated:
        from urllib.parse import urlencode

        return redirect(f"{reverse('staff:login')}?{urlencode({'next': request.get_full_path()})}")
    if not otp_enrolment_redeem(user=request.user, token=token):
        messages.error(
            request, _("This enrolment link is not valid, was used already or has expired. Ask for a new one.")
        )
        return redirect("staff:otp-setup")
    # A fresh secret: nobody saw the QR code of a device set up after this point.
    TOTPDevice.objects.filter(user=request.user, confirmed=False).delete()
    request.session[SESSION_KEY] = {
        "user": request.user.pk,
        "until": (timezone.now() + ENROLMENT_SESSION_TTL).timestamp(),
    }
    messages.success(request, _("Thank you. Now set up your authenticator app."))
    return redirect("staff:otp-setup")


def _enrol_start(request):
    """Before the first device: send the user's own link, or say who can give one."""
    channel, address = otp_enrolment_destination(request.user)
    if request.method == "POST" and channel:
        try:
            rate_take(
                limits=[("user", f"otp-enrolment:{request.user.pk}:{rate}", rate) for rate in ENROLMENT_SEND_LIMITS]
            )
        except RateLimited:
            messages.error(request, _("A link was sent a moment ago. Wait a little before asking for another."))
        else:
            otp_enrolment_send(
                user=request.user,
                link_for=lambda token: request.build_absolute_uri(reverse("staff:otp-enrol", args=[token])),
            )
            messages.success(
                request,
                _("We sent a link to %(destination)s. Open it in this browser; it works once, for 30 minutes.")
                % {"destination": _masked(address)},
            )
        return redirect("staff:otp-setup")
    return render(
        request,
        "staff/otp_enrol_start.html",
        {"destination": _masked(address) if channel else ""},
    )


def otp_setup(request):
    if not request.user.is_authenticated:
        return redirect("staff:login")
    if TOTPDevice.objects.filter(user=request.user, confirmed=True).exists() and not request.user.is_verified():
        return redirect("staff:otp-verify")
    if not _may_enrol(request):
        return _enrol_start(request)
    device, _created = TOTPDevice.objects.get_or_create(
        user=request.user, confirmed=False, defaults={"name": "authenticator"}
    )
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["token"].strip()):
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            TOTPDevice.objects.filter(user=request.user).exclude(pk=device.pk).delete()
            request.session.pop(SESSION_KEY, None)
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


# --- A platform administrator's approval ------------------------------------------------------
class EnrolmentIssueForm(forms.Form):
    username = forms.CharField(label=gettext_lazy("Username"), max_length=150)
    how = forms.ChoiceField(
        label=gettext_lazy("How"),
        choices=[
            ("send", gettext_lazy("Send the link to the user's own email or phone")),
            ("hand_over", gettext_lazy("Show me a link to hand over in person")),
        ],
        initial="send",
    )

    def clean_username(self):
        from staff.models import User

        user = User.objects.filter(username=self.cleaned_data["username"].strip(), is_active=True).first()
        if user is None:
            raise forms.ValidationError(_("No active user has this username."))
        if TOTPDevice.objects.filter(user=user, confirmed=True).exists():
            raise forms.ValidationError(_("This user has set up two-factor sign-in already."))
        return user


def otp_enrolments(request):
    """Platform administrators let a user set up their first device: by a link to the user's own
    address, or one handed over in person (for users with neither email nor phone)."""
    from django.core.exceptions import PermissionDenied

    from staff.policies import has_role
    from staff.roles import PLATFORM_ADMIN

    if not request.user.is_authenticated:
        return redirect("staff:login")
    if not (request.user.is_superuser or has_role(request.user, PLATFORM_ADMIN)):
        raise PermissionDenied
    form = EnrolmentIssueForm(request.POST or None)
    handed_over = ""
    if request.method == "POST" and form.is_valid():
        user = form.cleaned_data["username"]

        def link_for(token):
            return request.build_absolute_uri(reverse("staff:otp-enrol", args=[token]))

        if form.cleaned_data["how"] == "hand_over":
            handed_over = link_for(otp_enrolment_hand_over(user=user, issued_by=request.user))
        elif not otp_enrolment_destination(user)[0]:
            form.add_error("how", _("This user has no email address or phone number; hand a link over instead."))
        else:
            otp_enrolment_send(user=user, link_for=link_for)
            messages.success(request, _("The link was sent to %(user)s.") % {"user": user.get_username()})
            return redirect("staff:otp-enrolments")
    recent = OtpEnrolment.objects.select_related("user", "issued_by")[:30]
    return render(request, "staff/otp_enrolments.html", {"form": form, "recent": recent, "handed_over": handed_over})


def needs_second_factor(user) -> bool:
    from staff.policies import has_role
    from staff.roles import PLATFORM_ADMIN, REGIONAL_ADMIN

    return user.is_superuser or has_role(user, PLATFORM_ADMIN, REGIONAL_ADMIN)
