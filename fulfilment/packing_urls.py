"""Console pages of packing (filled by its helper); included by fulfilment/urls.py."""

urlpatterns: list = []
