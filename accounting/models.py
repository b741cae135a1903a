"""Accounting models."""

from accounting.recon_models import *  # noqa: E402,F403
