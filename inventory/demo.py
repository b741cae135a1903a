"""Demo shelves: every store's shelf holds some of each of the first catalog products, so the till
sells the catalog from the first sign-in (docs/adr/0014-the-till-sells-the-catalog.md)."""

from core.models import Site
from inventory.models import StockLevel, StockLocation


def seed(ctx):
    rnd = ctx["random"]
    products = ctx.get("products", [])[:30]
    for site in Site.objects.filter(kind=Site.Kind.STORE, is_active=True):
        shelf = StockLocation.objects.create(site=site, kind=StockLocation.Kind.SHELF, name="Shelf")
        StockLocation.objects.create(site=site, kind=StockLocation.Kind.DAMAGED, name="Damaged goods")
        StockLevel.objects.bulk_create(
            StockLevel(location=shelf, product=product, quantity=rnd.randrange(3, 25), low_threshold=3)
            for product in products
        )
    # A flagged offline sale needs a shelf to have run out of (ADR 20).
    from staff.demo import seed_offline_sale

    seed_offline_sale(ctx)
