"""Print a one-time link that lets a user set up their first two-factor device: for the first
platform administrator, or a user with no email address or phone to send it to. Whoever runs it
has the server's shell, which is more than a password gives."""

from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse

from staff.models import User
from staff.otp import ENROLMENT_TTL, otp_enrolment_hand_over


class Command(BaseCommand):
    help = "Print a one-time two-factor enrolment link for a user (valid 30 minutes)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--base-url", default="http://127.0.0.1:8000", help="how users reach the console")

    def handle(self, *args, username, base_url, **options):
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {username!r}.")
        token = otp_enrolment_hand_over(user=user, label="manage.py otp_enrolment_link")
        link = base_url.rstrip("/") + reverse("staff:otp-enrol", args=[token])
        minutes = int(ENROLMENT_TTL.total_seconds() // 60)
        self.stdout.write(f"{link}\n(one use, {minutes} minutes, only while signed in as {username})")
