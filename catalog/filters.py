import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from catalog.models import Category, Product, Supplier
from core.filters import ScopedModelChoiceFilter


class ProductFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    category = django_filters.ModelChoiceFilter(queryset=Category.objects.all(), label=_("Category"))
    supplier = ScopedModelChoiceFilter(queryset=Supplier.objects.all(), label=_("Supplier"))

    class Meta:
        model = Product
        fields = ["q", "category", "supplier", "brand", "is_active"]

    def search(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(sku__icontains=value) | Q(barcode=value))
