"""Demo shelves: every store's shelf carries the first catalog products, so the till sells the
catalog from the first sign-in (docs/adr/0014-the-till-sells-the-catalog.md). They start empty:
the orders demo fills them and sells from them over the history, by stock movements."""

from core.models import Site
from inventory.models import StockLevel, StockLocation


def seed(ctx):
    products = ctx.get("products", [])[:30]
    for site in Site.objects.filter(kind=Site.Kind.STORE, is_active=True):
        shelf = StockLocation.objects.create(site=site, kind=StockLocation.Kind.SHELF, name="Shelf")
        StockLocation.objects.create(site=site, kind=StockLocation.Kind.DAMAGED, name="Damaged goods")
        StockLevel.objects.bulk_create(
            StockLevel(location=shelf, product=product, quantity=0, low_threshold=3) for product in products
        )
