"""``Idempotency-Key`` on POST: the first answer is stored per (tenant, key) and replayed.

The row is inserted in the transaction that performs the request, so the operation and its
stored answer commit together or not at all: a repeat that arrives while the first is running
waits on the unique index and then replays the committed answer; a request that failed with a
server error leaves nothing, and may be sent again. The same key with another request (method,
path or body) is refused with 422. Answers are kept ``API_IDEMPOTENCY_RETENTION_HOURS`` (24 h)
and then purged by beat (``api.tasks.purge_idempotency_records``). Owns every write of
``IdempotentRequest``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scopes_disabled
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from api.errors import ApiError
from api.models import ApiKey, IdempotentRequest
from core.errors import UserError

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 255
PURGE_BATCH = 5000


def request_hash(request: Request) -> str:
    digest = hashlib.sha256()
    for part in (request.method or "", request.path):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


def _replay(stored: IdempotentRequest, fingerprint: str) -> Response:
    if stored.request_hash != fingerprint:
        raise ApiError(
            _("This Idempotency-Key was already used for a different request."),
            code="idempotency_key_reused",
            status_code=422,
        )
    return Response(stored.body, status=stored.status_code, headers={REPLAY_HEADER: "true"})


def run_once(
    request: Request,
    handler: Callable[[], Response],
    error_response: Callable[[Exception], Response | None],
) -> Response:
    """Answer the POST with ``handler()``, or with the stored answer of its first sending.

    ``error_response`` turns a refusal the handler raised (a 4xx) into its response, so that a
    refusal is replayed like a success.
    """
    key = request.headers.get(HEADER, "").strip()
    if not key:
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        raise ApiError(
            _("An Idempotency-Key has at most %(count)d characters.") % {"count": MAX_KEY_LENGTH},
            code="idempotency_key_too_long",
            status_code=400,
        )
    assert isinstance(request.auth, ApiKey)  # ApiView's permission check let only keys in
    tenant = request.auth.tenant
    fingerprint = request_hash(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotentRequest.objects.create(
                    tenant=tenant, key=key, request_hash=fingerprint
                )
        except IntegrityError:
            # Another sending committed first (we waited for it on the unique index).
            return _replay(IdempotentRequest.objects.get(tenant=tenant, key=key), fingerprint)
        try:
            response = handler()
        except (UserError, APIException) as error:
            refused = error_response(error)
            if refused is None:
                raise
            response = refused
        record.status_code = response.status_code
        record.body = response.data
        record.save(update_fields=["status_code", "body"])
    return response


def purge_expired(now: datetime | None = None) -> int:
    """Forget the answers older than ``API_IDEMPOTENCY_RETENTION_HOURS`` (beat, every tenant):
    a repeat sent later is a new request. Returns how many were deleted."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.API_IDEMPOTENCY_RETENTION_HOURS)
    deleted = 0
    with scopes_disabled():
        while True:
            batch = list(
                IdempotentRequest.objects.filter(created_at__lt=cutoff).values_list(
                    "pk", flat=True
                )[:PURGE_BATCH]
            )
            if not batch:
                return deleted
            deleted += IdempotentRequest.objects.filter(pk__in=batch).delete()[0]
