"""/api/v1/webhooks/: an integration lists, creates (the secret answered once) and deletes the
company's webhooks with a read-and-write key. Thin: api.webhooks.subscriptions does the work."""

from __future__ import annotations

from typing import Any

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response

from api import idempotency
from api.errors import handle_exception
from api.models_webhooks import EventType, WebhookSubscription
from api.permissions import KeyScopePermission
from api.views import IDEMPOTENCY_KEY, WRITE_ERRORS, ApiView
from api.webhooks import subscriptions


class WriteKeyOnly(KeyScopePermission):
    """Webhooks carry the company's events to an address: even reading them needs a
    read-and-write key."""

    def has_permission(self, request: Request, view: Any) -> bool:
        key = request.auth
        return bool(getattr(key, "can_write", False))


class WebhookSerializer(serializers.ModelSerializer[WebhookSubscription]):
    events = serializers.ListField(child=serializers.ChoiceField(choices=EventType.choices))
    secret_last_four = serializers.CharField(read_only=True)

    class Meta:
        model = WebhookSubscription
        fields = ["id", "url", "events", "is_active", "disabled_reason", "secret_last_four"]
        fields += ["created_at"]


class NewWebhookSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(max_length=500)
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices), allow_empty=False
    )


class CreatedWebhookSerializer(WebhookSerializer):
    secret = serializers.CharField(help_text="Shown only in this answer.")

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]


class WebhookList(ApiView):
    permission_classes = [WriteKeyOnly]

    @extend_schema(
        responses={200: WebhookSerializer(many=True), **WRITE_ERRORS},
        summary="The company's webhooks",
        operation_id="webhooks_list",
    )
    def get(self, request: Request) -> Response:
        found = WebhookSubscription.objects.filter(tenant=self.key.tenant).order_by("id")
        return Response(WebhookSerializer(found, many=True).data)

    @extend_schema(
        request=NewWebhookSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CreatedWebhookSerializer, **WRITE_ERRORS},
        summary="Add a webhook (its secret is in this answer only)",
        operation_id="webhooks_create",
    )
    def post(self, request: Request) -> Response:
        return idempotency.run_once(
            request,
            lambda: self._create(request),
            lambda error: handle_exception(error, self.get_exception_handler_context()),
        )

    def _create(self, request: Request) -> Response:
        body = NewWebhookSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        actor = request.user if request.user.is_authenticated else None
        new = subscriptions.create_subscription(
            self.key.tenant,
            url=body.validated_data["url"],
            events=body.validated_data["events"],
            created_by=actor,
        )
        answer = dict(WebhookSerializer(new.subscription).data, secret=new.secret)
        return Response(answer, status=http.HTTP_201_CREATED)


class WebhookDetail(ApiView):
    permission_classes = [WriteKeyOnly]

    @extend_schema(
        responses={204: None, **{k: v for k, v in WRITE_ERRORS.items() if k != 422}},
        summary="Delete a webhook with its deliveries",
        operation_id="webhooks_destroy",
    )
    def delete(self, request: Request, webhook_id: int) -> Response:
        subscription = get_object_or_404(WebhookSubscription, pk=webhook_id)
        subscriptions.delete_subscription(subscription)
        return Response(status=http.HTTP_204_NO_CONTENT)
