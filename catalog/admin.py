from django.contrib import admin

from catalog.models import Brand, Category, Product, ProductBarcode, Supplier
from core.admin import ScopedModelAdmin


class ProductBarcodeInline(admin.TabularInline):
    model = ProductBarcode
    extra = 0


@admin.register(Product)
class ProductAdmin(ScopedModelAdmin):
    list_display = ["sku", "name", "brand", "category", "sale_price", "supplier", "is_active"]
    list_filter = ["is_active", "category", "supplier"]
    search_fields = ["sku", "name", "barcode"]
    inlines = [ProductBarcodeInline]


@admin.register(Category)
class CategoryAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "parent"]


@admin.register(Brand)
class BrandAdmin(ScopedModelAdmin):
    search_fields = ["name"]


@admin.register(Supplier)
class SupplierAdmin(ScopedModelAdmin):
    list_display = ["name", "code", "contact_name", "phone", "is_active"]
    filter_horizontal = ["users"]
