"""Catalog API: products (suppliers see only their own), categories, brands, suppliers."""

from rest_framework import serializers

from catalog.filters import ProductFilter
from catalog.models import Brand, Category, Product, Supplier
from catalog.services import product_create, product_update
from core.api import ScopedReadOnlyViewSet, ScopedViewSet, router


class ProductSerializer(serializers.ModelSerializer):
    class Meta:
        model = Product
        fields = [
            "id",
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
            "is_active",
        ]


class ProductViewSet(ScopedViewSet):
    queryset = Product.objects.all()
    serializer_class = ProductSerializer
    filterset_class = ProductFilter
    search_fields = ["name", "sku", "barcode"]
    ordering_fields = ["name", "sku", "sale_price"]
    select_related = ("brand", "category", "supplier")

    def perform_create(self, serializer):
        serializer.instance = product_create(actor=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = product_update(
            actor=self.request.user, product=serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        product_update(actor=self.request.user, product=instance, is_active=False)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "code", "parent"]


class CategoryViewSet(ScopedReadOnlyViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    filterset_fields = ["parent"]


class BrandSerializer(serializers.ModelSerializer):
    class Meta:
        model = Brand
        fields = ["id", "name"]


class BrandViewSet(ScopedReadOnlyViewSet):
    queryset = Brand.objects.all()
    serializer_class = BrandSerializer
    filterset_fields = ["name"]


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "code", "contact_name", "phone", "email", "is_active"]


class SupplierViewSet(ScopedReadOnlyViewSet):
    queryset = Supplier.objects.all()
    serializer_class = SupplierSerializer
    filterset_fields = ["is_active", "code"]


router.register("products", ProductViewSet)
router.register("categories", CategoryViewSet)
router.register("brands", BrandViewSet)
router.register("suppliers", SupplierViewSet)
