"""DEX reads in the machine's own time, the raw file as bytes, money at 4 decimal places (ADR 0009)."""

from django.db import migrations, models
from django.db.models.functions import Coalesce


def taken_at_fill(apps, schema_editor):
    DexRead = apps.get_model("gateway", "DexRead")
    DexRead.objects.update(taken_at=Coalesce("read_at", "received_at"))


def raw_to_bytes(apps, schema_editor):
    DexRead = apps.get_model("gateway", "DexRead")
    for read in DexRead.objects.only("pk", "raw").iterator():
        DexRead.objects.filter(pk=read.pk).update(raw_file=read.raw.encode("latin-1", errors="replace"))


def raw_to_text(apps, schema_editor):
    DexRead = apps.get_model("gateway", "DexRead")
    for read in DexRead.objects.only("pk", "raw_file").iterator():
        text = bytes(read.raw_file).decode("latin-1").replace("\x00", "")
        DexRead.objects.filter(pk=read.pk).update(raw=text)


MONEY = {"max_digits": 18, "decimal_places": 4}


class Migration(migrations.Migration):
    dependencies = [("gateway", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="dexread",
            name="taken_at",
            field=models.DateTimeField(db_index=True, null=True, verbose_name="audit time"),
        ),
        migrations.RunPython(taken_at_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="dexread",
            name="taken_at",
            field=models.DateTimeField(db_index=True, verbose_name="audit time"),
        ),
        migrations.AlterModelOptions(
            name="dexread",
            options={"ordering": ["-taken_at", "-pk"], "verbose_name": "DEX read", "verbose_name_plural": "DEX reads"},
        ),
        migrations.AddField(model_name="dexread", name="raw_file", field=models.BinaryField(default=b"")),
        migrations.AlterField(model_name="dexread", name="raw", field=models.TextField(default="")),
        migrations.RunPython(raw_to_bytes, raw_to_text),
        migrations.RemoveField(model_name="dexread", name="raw"),
        migrations.RenameField(model_name="dexread", old_name="raw_file", new_name="raw"),
        migrations.AlterField(model_name="dexread", name="raw", field=models.BinaryField()),
        migrations.AlterField(
            model_name="dexread",
            name="cash_value",
            field=models.DecimalField(blank=True, null=True, verbose_name="cash (total)", **MONEY),
        ),
        migrations.AlterField(
            model_name="dexread",
            name="cashless_value",
            field=models.DecimalField(blank=True, null=True, verbose_name="cashless (total)", **MONEY),
        ),
        migrations.AlterField(
            model_name="dexread",
            name="sales_value",
            field=models.DecimalField(default=0, verbose_name="value since the previous read", **MONEY),
        ),
        migrations.AlterField(
            model_name="dexread",
            name="vends_value",
            field=models.DecimalField(default=0, verbose_name="paid value (total)", **MONEY),
        ),
        migrations.AlterField(
            model_name="dexselection",
            name="price",
            field=models.DecimalField(default=0, verbose_name="price", **MONEY),
        ),
        migrations.AlterField(
            model_name="dexselection",
            name="value_sold",
            field=models.DecimalField(default=0, verbose_name="value since the previous read", **MONEY),
        ),
        migrations.AlterField(
            model_name="dexselection",
            name="value_total",
            field=models.DecimalField(default=0, verbose_name="value (total)", **MONEY),
        ),
    ]
