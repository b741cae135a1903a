"""Console pages of shipping (filled by its helper); included by fulfilment/urls.py."""

urlpatterns: list = []
