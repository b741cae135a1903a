"""Admin registrations of the accounting app, one module per concern."""

from accounting import recon_admin  # noqa: F401
