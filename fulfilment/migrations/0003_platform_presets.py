"""The column layouts of the Taobao / Tmall and JD order exports (docs/adr/0032); operators edit
them in the console. Kept literal here so a later change of the presets does not rewrite history."""

from django.db import migrations

PRESETS = {
    "taobao": (
        "淘宝 / 天猫 (Taobao / Tmall)",
        {
            "order_number": "订单编号",
            "recipient": "收货人姓名",
            "phone": "联系手机",
            "address": "收货地址",
            "sku": "商家编码",
            "product_name": "宝贝标题",
            "quantity": "宝贝总数量",
            "line_total": "买家实际支付金额",
        },
    ),
    "jd": (
        "京东 (JD)",
        {
            "order_number": "订单号",
            "recipient": "客户姓名",
            "phone": "联系电话",
            "address": "客户地址",
            "sku": "商品ID",
            "product_name": "商品名称",
            "quantity": "订购数量",
            "unit_price": "京东价",
        },
    ),
}


def create(apps, schema_editor):
    PlatformMapping = apps.get_model("fulfilment", "PlatformMapping")
    for platform, (name, columns) in PRESETS.items():
        PlatformMapping.objects.get_or_create(platform=platform, defaults={"name": name, "columns": columns})


class Migration(migrations.Migration):
    dependencies = [("fulfilment", "0002_platform_mapping")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
