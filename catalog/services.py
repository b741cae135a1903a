"""Writes for the catalog."""

from django.db import transaction

from catalog.models import Product
from core.services import audit_record, model_changes

PRODUCT_FIELDS = [
    "sku",
    "barcode",
    "name",
    "brand",
    "category",
    "spec",
    "flavour",
    "cost_price",
    "sale_price",
    "supplier",
    "image",
    "is_active",
]


@transaction.atomic
def product_create(*, actor, **fields) -> Product:
    product = Product(**fields)
    product.full_clean()
    product.save()
    audit_record(actor=actor, action="product.create", obj=product)
    return product


@transaction.atomic
def product_update(*, actor, product: Product, **fields) -> Product:
    before = {f: getattr(product, f) for f in fields}
    for name, value in fields.items():
        setattr(product, name, value)
    product.full_clean()
    product.save()
    audit_record(actor=actor, action="product.update", obj=product, changes=model_changes(product, fields, before))
    return product
