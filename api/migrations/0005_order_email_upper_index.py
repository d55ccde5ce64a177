"""The REST API's buyer e-mail filter (case-insensitive, ``buyer_email__iexact``): an index on
the upper-cased address, so the lookup reads one company's matching orders only.

Built CONCURRENTLY (the orders table is large and written all the time), hence not atomic."""

from django.db import migrations

CREATE = """
CREATE INDEX CONCURRENTLY IF NOT EXISTS order_tenant_email_upper
ON orders_order (tenant_id, upper(buyer_email::text))
"""
DROP = "DROP INDEX CONCURRENTLY IF EXISTS order_tenant_email_upper"


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("api", "0004_event_feed"),
        ("orders", "0009_label_events"),
    ]

    operations = [
        migrations.RunSQL(CREATE, DROP),
        # Statistics of the new expression, so the planner picks the index at once.
        migrations.RunSQL("ANALYZE orders_order", migrations.RunSQL.noop),
    ]
