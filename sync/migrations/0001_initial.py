# The sync engine's rows move from channels to sync with their tables (docs/adr/0006-sync-app.md):
# state only, not one statement runs on the database.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('channels', '0003_stuck_checkout_forms'),
        ('core', '0001_initial'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name='ChannelSyncState',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('cursor', models.CharField(blank=True, default='', max_length=32)),
                        ('cursor_bootstrapped_at', models.DateTimeField(blank=True, null=True)),
                        ('cursor_account', models.CharField(blank=True, default='', max_length=64)),
                        ('last_event_occurred_at', models.DateTimeField(blank=True, null=True)),
                        ('next_poll_at', models.DateTimeField(blank=True, null=True)),
                        ('poll_interval_seconds', models.PositiveIntegerField(default=15)),
                        ('last_poll_started_at', models.DateTimeField(blank=True, null=True)),
                        ('last_poll_at', models.DateTimeField(blank=True, null=True)),
                        ('last_poll_outcome', models.CharField(blank=True, choices=[('', 'Not polled yet'), ('ok', 'OK'), ('partial', 'Interrupted, will continue'), ('failed', 'Failed')], default='', max_length=10)),
                        ('last_success_at', models.DateTimeField(blank=True, null=True)),
                        ('last_poll_events', models.PositiveIntegerField(default=0)),
                        ('last_poll_orders', models.PositiveIntegerField(default=0)),
                        ('last_poll_requests', models.PositiveIntegerField(default=0)),
                        ('cursor_advances', models.PositiveBigIntegerField(default=0)),
                        ('events_processed', models.PositiveBigIntegerField(default=0)),
                        ('consecutive_failures', models.PositiveIntegerField(default=0)),
                        ('last_error', models.CharField(blank=True, default='', max_length=500)),
                        ('last_error_at', models.DateTimeField(blank=True, null=True)),
                        ('bad_forms', models.JSONField(blank=True, default=list)),
                        ('bad_forms_total', models.PositiveIntegerField(default=0)),
                        ('backfill_state', models.CharField(blank=True, choices=[('', 'Not started'), ('pending', 'Waiting to start'), ('running', 'Importing'), ('done', 'Finished'), ('failed', 'Stopped with an error')], default='', max_length=10)),
                        ('backfill_run', models.PositiveIntegerField(default=0)),
                        ('backfill_from', models.DateTimeField(blank=True, null=True)),
                        ('backfill_to', models.DateTimeField(blank=True, null=True)),
                        ('backfill_position', models.DateTimeField(blank=True, null=True)),
                        ('backfill_position_offset', models.PositiveIntegerField(default=0)),
                        ('backfill_total', models.PositiveIntegerField(default=0)),
                        ('backfill_done', models.PositiveIntegerField(default=0)),
                        ('backfill_created', models.PositiveIntegerField(default=0)),
                        ('backfill_failed', models.PositiveIntegerField(default=0)),
                        ('backfill_started_at', models.DateTimeField(blank=True, null=True)),
                        ('backfill_heartbeat_at', models.DateTimeField(blank=True, null=True)),
                        ('backfill_finished_at', models.DateTimeField(blank=True, null=True)),
                        ('backfill_error', models.CharField(blank=True, default='', max_length=500)),
                        ('last_reconcile_at', models.DateTimeField(blank=True, null=True)),
                        ('last_reconcile_window_hours', models.PositiveIntegerField(default=0)),
                        ('last_reconcile_checked', models.PositiveIntegerField(default=0)),
                        ('last_reconcile_missing', models.PositiveIntegerField(default=0)),
                        ('last_reconcile_missing_ids', models.JSONField(blank=True, default=list)),
                        ('reconcile_missing_total', models.PositiveIntegerField(default=0)),
                        ('last_reconcile_error', models.CharField(blank=True, default='', max_length=500)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('channel', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='sync_states', to='channels.saleschannel')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.tenant')),
                    ],
                    options={
                        'db_table': 'channels_channelsyncstate',
                        'verbose_name': 'channel sync state',
                        'constraints': [models.UniqueConstraint(fields=('tenant', 'channel'), name='channelsyncstate_tenant_ch')],
                    },
                ),
                migrations.CreateModel(
                    name='StuckCheckoutForm',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('form_id', models.CharField(max_length=64)),
                        ('first_failed_at', models.DateTimeField()),
                        ('last_attempt_at', models.DateTimeField()),
                        ('last_status', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=1)),
                        ('next_retry_at', models.DateTimeField()),
                        ('channel', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='stuck_forms', to='channels.saleschannel')),
                        ('tenant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to='core.tenant')),
                    ],
                    options={
                        'db_table': 'channels_stuckcheckoutform',
                        'verbose_name': 'checkout form Allegro cannot serve',
                        'ordering': ['first_failed_at', 'id'],
                        'indexes': [models.Index(fields=['tenant', 'channel', 'next_retry_at'], name='stuckform_tenant_ch_retry')],
                        'constraints': [models.UniqueConstraint(fields=('tenant', 'channel', 'form_id'), name='stuckcheckoutform_tenant_ch_form')],
                    },
                ),
            ],
        ),
    ]
