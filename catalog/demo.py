"""Demo suppliers, categories and about sixty products."""

from decimal import Decimal

from catalog.models import Brand, Category, Product, Supplier

SUPPLIERS = [("fresh", "Fresh Drinks Co."), ("snack", "Happy Snacks Ltd."), ("daily", "Daily Goods Trading")]
CATEGORIES = [("drinks", "Drinks", "fresh"), ("snacks", "Snacks", "snack"), ("daily", "Daily goods", "daily")]
ITEMS = {
    "drinks": [
        ("Cola", "330 ml", "3.50"),
        ("Green tea", "500 ml", "4.00"),
        ("Mineral water", "550 ml", "2.00"),
        ("Orange juice", "450 ml", "5.50"),
        ("Iced coffee", "280 ml", "6.00"),
        ("Lemon tea", "500 ml", "4.50"),
        ("Sports drink", "600 ml", "5.00"),
        ("Soy milk", "250 ml", "3.00"),
    ],
    "snacks": [
        ("Potato chips", "70 g", "6.50"),
        ("Chocolate bar", "45 g", "5.00"),
        ("Biscuits", "100 g", "4.50"),
        ("Peanuts", "80 g", "5.50"),
        ("Seaweed snack", "20 g", "7.00"),
        ("Instant noodles", "110 g", "5.00"),
    ],
    "daily": [
        ("Tissues", "10 packs", "6.00"),
        ("Umbrella", "1 pc", "35.00"),
        ("Phone charger cable", "1 m", "25.00"),
        ("Face masks", "10 pcs", "9.90"),
        ("Hand sanitiser", "60 ml", "12.00"),
    ],
}
FLAVOURS = ["", "Original", "Lemon", "Peach", "Spicy", "Sea salt"]


def seed(ctx):
    rnd = ctx["random"]
    suppliers = {
        code: Supplier.objects.create(name=name, code=code, contact_name="Demo contact", phone="13800000000")
        for code, name in SUPPLIERS
    }
    suppliers["fresh"].users.add(ctx["users"]["supplier"])
    brands = [Brand.objects.create(name=name) for name in ("Sunny", "BlueLeaf", "Panda", "Harbour")]
    products = []
    for code, name, supplier_code in CATEGORIES:
        category = Category.objects.create(name=name, code=code)
        for index in range(22 if code == "drinks" else 19):
            base_name, spec, price = ITEMS[code][index % len(ITEMS[code])]
            flavour = FLAVOURS[(index // len(ITEMS[code])) % len(FLAVOURS)]
            sale = Decimal(price)
            products.append(
                Product.objects.create(
                    sku=f"{code[:3].upper()}-{index + 1:03d}",
                    barcode=f"69{rnd.randrange(10**10, 10**11)}",
                    name=f"{base_name} {flavour}".strip(),
                    brand=rnd.choice(brands),
                    category=category,
                    spec=spec,
                    flavour=flavour,
                    cost_price=(sale * Decimal("0.55")).quantize(Decimal("0.01")),
                    sale_price=sale,
                    supplier=suppliers[supplier_code],
                )
            )
    ctx["products"] = products
