from django.db import migrations, models
from django_scopes import scopes_disabled

TYPES = {"PL_NIP", "CZ_ICO", "CZ_DIC", "HU_ADOSZAM", "SK_ICO", "SK_IC_DPH", "VAT_EU", "OTHER"}


def tax_ids_of(form) -> list[dict[str, str]]:
    """The invoice company's typed ids from a stored checkout form (as orders.allegro_form reads
    them, frozen here so the migration does not change with the parser)."""
    invoice = form.get("invoice") if isinstance(form, dict) else None
    address = invoice.get("address") if isinstance(invoice, dict) else None
    company = address.get("company") if isinstance(address, dict) else None
    if not isinstance(company, dict):
        return []
    ids: list[dict[str, str]] = []
    entries = company.get("ids")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or not isinstance(entry.get("value"), str | int):
            continue
        kind = entry.get("type") if entry.get("type") in TYPES else "OTHER"
        value = str(entry["value"]).strip()[:40]
        if value and {"type": kind, "value": value} not in ids:
            ids.append({"type": kind, "value": value})
    if not ids and isinstance(company.get("taxId"), str | int):
        value = str(company["taxId"]).strip()[:40]
        if value:
            ids.append({"type": "", "value": value})
    return ids


def fill_tax_ids(apps, schema_editor):
    Order = apps.get_model("orders", "Order")
    batch = []
    with scopes_disabled():
        orders = (
            Order.objects.filter(raw_form__invoice__address__company__isnull=False)
            .only("id", "raw_form", "invoice_tax_id")
            .order_by("id")
        )
        for order in orders.iterator(chunk_size=2000):
            ids = tax_ids_of(order.raw_form)
            if not ids:
                continue
            order.invoice_tax_ids = ids
            main = next((i for i in ids if i["type"] == "PL_NIP"), ids[0])
            order.invoice_tax_id = main["value"]
            batch.append(order)
            if len(batch) >= 2000:
                Order.objects.bulk_update(batch, ["invoice_tax_ids", "invoice_tax_id"])
                batch = []
        if batch:
            Order.objects.bulk_update(batch, ["invoice_tax_ids", "invoice_tax_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0004_order_fulfillment_confirmed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="order",
            name="invoice_tax_ids",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(fill_tax_ids, migrations.RunPython.noop),
    ]
