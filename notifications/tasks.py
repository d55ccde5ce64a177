"""Celery tasks of the mail outbox. Thin: ids in, the sender called."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from core.tasks import TenantTask
from notifications import registration, sender
from notifications.outbox import SEND_PLATFORM_TASK, SEND_TASK

# A retry sooner than this is scheduled by the task itself; later ones are left to the sweeper.
SELF_RETRY_MAX_SECONDS = 30.0


@shared_task(name=SEND_TASK, base=TenantTask, ignore_result=True)
def send_mail(tenant_id: int, mail_id: int) -> None:
    """Send one mail of a tenant (its scope entered by TenantTask)."""
    outcome = sender.send(mail_id)
    if outcome.retry_in is not None and outcome.retry_in <= SELF_RETRY_MAX_SECONDS:
        send_mail.apply_async((tenant_id, mail_id), countdown=outcome.retry_in)


@shared_task(name=SEND_PLATFORM_TASK, ignore_result=True)
def send_platform_mail(mail_id: int) -> None:
    """Send one mail of no tenant (sign-up, password reset)."""
    outcome = sender.send(mail_id)
    if outcome.retry_in is not None and outcome.retry_in <= SELF_RETRY_MAX_SECONDS:
        send_platform_mail.apply_async((mail_id,), countdown=outcome.retry_in)


@shared_task(name="notifications.sweep_mail", ignore_result=True)
def sweep_mail() -> int:
    """Beat: dispatch every mail that is due (never dispatched, a lost message, a retry, a
    sender that died mid-send and whose lease ran out)."""
    due = sender.due_ids(settings.MAIL_SWEEP_BATCH)
    for tenant_id, mail_id in due:
        if tenant_id is None:
            send_platform_mail.delay(mail_id)
        else:
            send_mail.delay(tenant_id, mail_id)
    return len(due)


@shared_task(name="notifications.refresh_sender_addresses", base=TenantTask, ignore_result=True)
def refresh_sender_addresses(tenant_id: int, channel_id: int) -> None:
    """Read the sender addresses registered on the channel's Allegro account."""
    registration.refresh(channel_id)


@shared_task(name="notifications.register_sender_address", base=TenantTask, ignore_result=True)
def register_sender_address(tenant_id: int, channel_id: int) -> None:
    """Register the channel's sender address on its Allegro account."""
    registration.register(channel_id)


@shared_task(name="notifications.refresh_all_sender_addresses", ignore_result=True)
def refresh_all_sender_addresses() -> int:
    """Beat, daily: every connected channel's list read again (changed in Allegro's panel)."""
    channels = registration.connected_channels()
    for tenant_id, channel_id in channels:
        refresh_sender_addresses.delay(tenant_id, channel_id)
    return len(channels)
