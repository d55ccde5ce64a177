from celery import shared_task

from core.health import record_beat_heartbeat


@shared_task(ignore_result=True)
def beat_heartbeat() -> None:
    """Scheduled by beat, run by a worker: its timestamp proves both are alive."""
    record_beat_heartbeat()
