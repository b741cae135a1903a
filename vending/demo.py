"""Demo planograms: every vending machine gets eight slots of drinks and snacks, partly sold."""

from devices.models import Device
from inventory.services import stock_move
from vending.services import slot_create


def seed(ctx):
    rnd = ctx["random"]
    products = [p for p in ctx["products"] if p.is_active]
    for machine in [d for d in ctx["devices"] if d.kind == Device.Kind.VENDING]:
        for index, product in enumerate(rnd.sample(products, 8)):
            slot = slot_create(
                device=machine,
                code=f"{'AB'[index // 4]}{index % 4 + 1}",
                product=product,
                capacity=12,
                par_level=12,
                low_threshold=3,
            )
            stock_move(level=slot.level, quantity=rnd.randrange(1, 13), reason="restock", actor="demo")
