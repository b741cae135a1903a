"""Scoped builders of the fulfilment app for the generated guard tests (tests/factories.py)."""

from tests.fulfilment.shipping_builders import SHIPPING_SCOPED_BUILDERS

SCOPED_BUILDERS = {**SHIPPING_SCOPED_BUILDERS}
