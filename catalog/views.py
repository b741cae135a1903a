"""Console pages of the catalog: product list, detail, edit, and import."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from catalog.filters import ProductFilter
from catalog.forms import ProductForm, ProductImportForm
from catalog.imports import COLUMNS, ImportFailed, products_import
from catalog.models import Product
from catalog.services import PRODUCT_FIELDS, product_create, product_update
from core.console import ScopedDetailView, ScopedListView, nav_register


class ProductListView(ScopedListView):
    model = Product
    url_name = "catalog:product-list"
    detail_url_name = "catalog:product-detail"
    title = gettext_lazy("Products")
    filterset_class = ProductFilter
    select_related = ("brand", "category", "supplier")
    columns = [
        ("sku", gettext_lazy("SKU")),
        ("name", gettext_lazy("Name")),
        ("brand", gettext_lazy("Brand")),
        ("category", gettext_lazy("Category")),
        ("spec", gettext_lazy("Spec")),
        ("sale_price", gettext_lazy("Sale price")),
        ("supplier", gettext_lazy("Supplier")),
        ("is_active", gettext_lazy("Active")),
    ]
    actions = [
        (gettext_lazy("New product"), "catalog:product-create", "catalog.add_product"),
        (gettext_lazy("Import"), "catalog:product-import", "catalog.add_product"),
    ]


class ProductDetailView(ScopedDetailView):
    model = Product
    template_name = "catalog/product_detail.html"
    select_related = ("brand", "category", "supplier")


@login_required
@permission_required("catalog.change_product", raise_exception=True)
def product_edit(request, pk=None):
    product = None
    if pk is not None:
        product = get_object_or_404(Product.objects.restrict(request.user, "change"), pk=pk)
    form = ProductForm(request.POST or None, request.FILES or None, instance=product)
    if request.method == "POST" and form.is_valid():
        fields = {f: form.cleaned_data[f] for f in PRODUCT_FIELDS if f in form.cleaned_data}
        try:
            if product is None:
                product = product_create(actor=request.user, **fields)
            else:
                product = product_update(actor=request.user, product=Product.objects.get(pk=product.pk), **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Product saved."))
            return redirect("catalog:product-detail", pk=product.pk)
    return render(request, "catalog/product_form.html", {"form": form, "product": product})


@login_required
@permission_required("catalog.add_product", raise_exception=True)
def product_import(request):
    form = ProductImportForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = products_import(actor=request.user, filename=upload.name, content=upload.read())
        except ImportFailed as exc:
            errors = exc.errors
            messages.error(request, _("Nothing was imported: %(n)s problem(s) found.") % {"n": len(errors)})
        else:
            messages.success(request, _("Imported %(rows)s rows: %(created)s new, %(updated)s updated.") % result)
            return redirect("catalog:product-list")
    from catalog.models import Category, Supplier

    return render(
        request,
        "catalog/product_import.html",
        {
            "form": form,
            "errors": errors,
            "columns": COLUMNS,
            "suppliers": Supplier.objects.restrict(request.user).order_by("code"),
            "categories": Category.objects.restrict(request.user).order_by("code"),
        },
    )


@login_required
@permission_required("catalog.add_product", raise_exception=True)
def product_import_template(request):
    """The import file to fill in: the columns, and one example row with a real supplier and
    category code (the import page lists them all)."""
    from catalog.models import Category, Supplier
    from core.exports import table_response

    supplier = Supplier.objects.restrict(request.user).order_by("code").first()
    category = Category.objects.restrict(request.user).order_by("code").first()
    example = {
        "sku": "SKU-0001",
        "name": _("Sparkling water 500 ml"),
        "barcode": "6901234567892",
        "brand": "",
        "category": category.code if category else "",
        "spec": "500 ml",
        "flavour": "",
        "cost_price": "1.20",
        "sale_price": "3.00",
        "supplier": supplier.code if supplier else "",
        "active": "yes",
    }
    fmt = "xlsx" if request.GET.get("format") == "xlsx" else "csv"
    return table_response(COLUMNS, [[example.get(column, "") for column in COLUMNS]], fmt, filename="products-template")


nav_register(
    section=gettext_lazy("Catalog"),
    label=gettext_lazy("Products"),
    url_name="catalog:product-list",
    permission="catalog.view_product",
    order=40,
)
