"""Forces a password change before anything else for users flagged `must_change_password`, and
the second factor for administrators (settings.STAFF_OTP_REQUIRED)."""

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse

ALLOWED_PREFIXES = ("/static/", "/i18n/", "/favicon.ico")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse("staff:password-change"), reverse("staff:logout")}
            if request.path not in allowed and not request.path.startswith(ALLOWED_PREFIXES):
                if request.path.startswith("/api/"):
                    return JsonResponse({"detail": "Password change required."}, status=403)
                return redirect("staff:password-change")
        return self.get_response(request)


class RequireSecondFactorMiddleware:
    """Platform and regional administrators' sessions must be verified with a TOTP code."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if getattr(settings, "STAFF_OTP_REQUIRED", False):
            user = getattr(request, "user", None)
            if (
                user is not None
                and user.is_authenticated
                and not getattr(request, "auth", None)
                and not user.is_verified()
                and not request.path.startswith(ALLOWED_PREFIXES)
            ):
                from staff.otp import needs_second_factor

                allowed = {reverse("staff:otp-verify"), reverse("staff:otp-setup"), reverse("staff:logout")}
                enrol = reverse("staff:otp-enrol", args=["-"]).removesuffix("-/")
                if request.path not in allowed and not request.path.startswith(enrol) and needs_second_factor(user):
                    if request.path.startswith("/api/"):
                        return JsonResponse({"detail": "Two-factor verification required."}, status=403)
                    return redirect(f"{reverse('staff:otp-verify')}?{urlencode({'next': request.get_full_path()})}")
        return self.get_response(request)
