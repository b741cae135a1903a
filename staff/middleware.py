"""Forces a password change before anything else for users flagged `must_change_password`."""

from django.shortcuts import redirect
from django.urls import reverse

ALLOWED_PREFIXES = ("/static/", "/i18n/")


class ForcePasswordChangeMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and getattr(user, "must_change_password", False):
            allowed = {reverse("staff:password-change"), reverse("staff:logout")}
            if request.path not in allowed and not request.path.startswith(ALLOWED_PREFIXES):
                if request.path.startswith("/api/"):
                    from django.http import JsonResponse

                    return JsonResponse({"detail": "Password change required."}, status=403)
                return redirect("staff:password-change")
        return self.get_response(request)
