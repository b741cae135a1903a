"""Products and what describes them. The catalog is shared by every region; suppliers see only
their own products (`Product.objects.restrict`)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.scoping import RestrictedQuerySet


def supplier_of(user):
    """The supplier a supplier-role user acts for, or None for everyone else."""
    if user.is_superuser or user.has_perm("core.scope_all"):
        return None
    cache = user.__dict__.setdefault("_supplier_ids", None)
    if cache is None:
        cache = list(Supplier.objects.filter(users=user).values_list("pk", flat=True))
        user.__dict__["_supplier_ids"] = cache
    return cache or None


class SupplierScopedQuerySet(RestrictedQuerySet):
    """Rows tied to a supplier: a supplier user sees only their own; other staff see all."""

    supplier_lookup = "supplier"

    def scope_filter(self, user, action):
        supplier_ids = supplier_of(user)
        if supplier_ids is None:
            if action == "change" and not (user.is_superuser or user.has_perm("core.scope_all")):
                # The shared catalog is changed by platform administrators only.
                return Q(pk__in=[])
            return None
        if action == "change":
            return Q(pk__in=[])
        return Q(**{f"{self.supplier_lookup}__in": supplier_ids})


class SupplierQuerySet(SupplierScopedQuerySet):
    supplier_lookup = "pk"


class Supplier(models.Model):
    name = models.CharField(_("name"), max_length=120)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    contact_name = models.CharField(_("contact"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("email"), blank=True)
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("users"), blank=True, related_name="suppliers"
    )
    is_active = models.BooleanField(_("active"), default=True)

    objects = SupplierQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("supplier")
        verbose_name_plural = _("suppliers")

    def __str__(self):
        return self.name


class Brand(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("brand")
        verbose_name_plural = _("brands")

    def __str__(self):
        return self.name


class Category(models.Model):
    name = models.CharField(_("name"), max_length=100)
    code = models.SlugField(_("code"), max_length=40, unique=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self):
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class Product(models.Model):
    sku = models.CharField(_("SKU"), max_length=40, unique=True)
    barcode = models.CharField(_("barcode"), max_length=32, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    brand = models.ForeignKey(Brand, verbose_name=_("brand"), null=True, blank=True, on_delete=models.PROTECT)
    category = models.ForeignKey(Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT)
    spec = models.CharField(_("specification"), max_length=60, blank=True, help_text=_("e.g. 500 ml, 45 g"))
    flavour = models.CharField(_("flavour"), max_length=60, blank=True)
    cost_price = models.DecimalField(
        _("cost price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    sale_price = models.DecimalField(
        _("sale price"), max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))]
    )
    supplier = models.ForeignKey(
        Supplier, verbose_name=_("supplier"), null=True, blank=True, on_delete=models.PROTECT, related_name="products"
    )
    image = models.ImageField(_("image"), upload_to="products/", blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = SupplierScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [
            models.CheckConstraint(condition=Q(cost_price__gte=0), name="product_cost_price_not_negative"),
            models.CheckConstraint(condition=Q(sale_price__gte=0), name="product_sale_price_not_negative"),
        ]

    def __str__(self):
        return f"{self.name} ({self.sku})"


class ProductBarcodeQuerySet(SupplierScopedQuerySet):
    supplier_lookup = "product__supplier"


class ProductBarcode(models.Model):
    """Extra barcodes (multipacks, regional labels) beside the product's main one."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="barcodes")
    code = models.CharField(_("barcode"), max_length=32, unique=True)

    objects = ProductBarcodeQuerySet.as_manager()

    class Meta:
        verbose_name = _("barcode")
        verbose_name_plural = _("barcodes")

    def __str__(self):
        return self.code
