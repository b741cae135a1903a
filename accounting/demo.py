"""Demo data of the accounting app, one module per concern."""

from accounting import recon_demo


def seed(ctx):
    recon_demo.seed(ctx)
