from django.conf import settings


def console(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"CURRENCY": settings.CURRENCY}
    from core.console import nav_for
    from core.selectors import notification_list_for

    return {
        "CURRENCY": settings.CURRENCY,
        "console_nav": nav_for(user),
        "unread_notifications": notification_list_for(recipient=user).filter(read_at__isnull=True).count(),
    }
