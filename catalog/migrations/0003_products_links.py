"""Order line links remember the line's offer id (an offer imported after its orders finds
their lines by it); products' names get a trigram index for the linking screen's suggestions."""

from django.db import migrations, models


def _trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    # orders' search made both extensions; IF NOT EXISTS keeps this migration on its own feet.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gin")
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS product_name_trgm ON catalog_product "
        "USING gin (tenant_id, name gin_trgm_ops)"
    )


def _drop_trigram_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS product_name_trgm")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0002_offers_ean_checked"),
        ("core", "0001_initial"),
        ("orders", "0009_label_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="orderlinelink",
            name="offer_external_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.AddIndex(
            model_name="orderlinelink",
            index=models.Index(
                condition=models.Q(("product__isnull", True)),
                fields=["tenant", "offer_external_id"],
                name="linelink_tenant_unlinked",
            ),
        ),
        migrations.RunPython(_trigram_index, _drop_trigram_index),
    ]
