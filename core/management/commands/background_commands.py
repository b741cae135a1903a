"""List the management commands `make run` starts beside the web server (one per line).

Apps add theirs to settings.EMBEDDED_BACKGROUND_COMMANDS (e.g. the simulated cabinets once the
gateway exists), so the Makefile does not need to know about them.
"""

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Print the background commands of the embedded run."

    def handle(self, *args, **options):
        for command in getattr(settings, "EMBEDDED_BACKGROUND_COMMANDS", []):
            self.stdout.write(command)
