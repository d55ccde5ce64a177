# ChannelSyncState and StuckCheckoutForm now belong to the sync app, which keeps their tables
# (sync/migrations/0001_initial.py, docs/adr/0006-sync-app.md): state only, no statement runs.

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('channels', '0003_stuck_checkout_forms'),
        ('sync', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name='ChannelSyncState'),
                migrations.DeleteModel(name='StuckCheckoutForm'),
            ],
        ),
    ]
