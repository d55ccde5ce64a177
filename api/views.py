"""/api/v1/: thin views over orders.queries, orders.changes and sync.health.

Every view runs inside the key's tenant scope (ApiView.initial), so another tenant's ids are
simply not found (404).
"""

from __future__ import annotations

import hashlib
import json
from contextlib import ExitStack
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_scopes import scope
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import idempotency
from api.authentication import BearerKeyAuthentication
from api.errors import ApiError, handle_exception
from api.models import ApiKey
from api.permissions import KeyScopePermission
from api.serializers import (
    ChannelSerializer,
    ErrorSerializer,
    OrderDetailSerializer,
    OrderFilterSerializer,
    OrderListSerializer,
    OrderPageSerializer,
    StatusChangeResultSerializer,
    StatusChangeSerializer,
    StatusSerializer,
    SyncHealthSerializer,
)
from api.throttling import KeyRateThrottle
from channels.models import SalesChannel
from orders import changes
from orders.models import Order, OrderEvent, OrderStatus
from orders.queries import Cursor, Sort, page_of
from sync.health import health_of_channels

ERRORS = {
    400: OpenApiResponse(ErrorSerializer, description="The request is not valid."),
    401: OpenApiResponse(ErrorSerializer, description="No valid API key."),
    404: OpenApiResponse(ErrorSerializer, description="Not found (or another company's)."),
    429: OpenApiResponse(ErrorSerializer, description="Over the key's rate limit."),
}
WRITE_ERRORS = {
    **ERRORS,
    403: OpenApiResponse(ErrorSerializer, description="The key may only read."),
    409: OpenApiResponse(ErrorSerializer, description="Conflicts with the order's state."),
    422: OpenApiResponse(ErrorSerializer, description="Idempotency-Key used for another request."),
}
IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    str,
    OpenApiParameter.HEADER,
    description="Repeats of a request with the same key get the first answer.",
)


class ApiView(APIView):
    """Base of every endpoint: the key's tenant scope around the handler, one error shape."""

    authentication_classes = [BearerKeyAuthentication]
    permission_classes = [KeyScopePermission]
    throttle_classes = [KeyRateThrottle]

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with ExitStack() as self.scopes:
            return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # authentication, permissions, rate limit
        key = request.auth
        assert isinstance(key, ApiKey)
        self.key = key
        self.scopes.enter_context(scope(tenant=key.tenant))

    def get_exception_handler(self) -> Any:
        return handle_exception


def filtered(key: ApiKey, params: dict[str, Any]) -> QuerySet[Order]:
    qs = Order.objects.filter(tenant=key.tenant)
    ranges = {
        "created": "imported_at",
        "updated": "updated_at",
        "bought": "bought_at",
    }
    for name, column in ranges.items():
        if f"{name}_from" in params:
            qs = qs.filter(**{f"{column}__gte": params[f"{name}_from"]})
        if f"{name}_to" in params:
            qs = qs.filter(**{f"{column}__lt": params[f"{name}_to"]})
    exact = {
        "status": "status_id",
        "payment_status": "payment_status",
        "channel": "channel_id",
        "buyer_login": "buyer_login",
        "external_id": "external_id",
        "number": "number",
    }
    for name, column in exact.items():
        if name in params:
            qs = qs.filter(**{column: params[name]})
    if "buyer_email" in params:
        # Stored as Allegro sends it; looked up without regard to case.
        qs = qs.filter(buyer_email__iexact=params["buyer_email"].strip())
    return qs


class OrderList(ApiView):
    @extend_schema(
        parameters=[OrderFilterSerializer],
        responses={200: OrderPageSerializer, **ERRORS},
        summary="Orders, newest first, a page after a cursor",
        operation_id="orders_list",
    )
    def get(self, request: Request) -> Response:
        query = OrderFilterSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        sort = Sort(params["sort"])
        cursor = None
        if params.get("cursor"):
            cursor = Cursor.decode(params["cursor"], sort)
            if cursor is None:
                raise ApiError(
                    _("This cursor is not valid for this sort; start from the first page."),
                    code="cursor_invalid",
                    field="cursor",
                    status_code=400,
                )
        page = page_of(filtered(self.key, params), sort, cursor, size=params["limit"])
        return Response(
            {
                "results": OrderListSerializer(page.orders, many=True).data,
                "next_cursor": page.next_cursor,
                "previous_cursor": page.prev_cursor,
            }
        )


def etag_of(data: Any) -> str:
    body = json.dumps(data, sort_keys=True, cls=DjangoJSONEncoder, separators=(",", ":"))
    return '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'


def matches(header: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


class OrderDetail(ApiView):
    @extend_schema(
        responses={200: OrderDetailSerializer, 304: None, **ERRORS},
        parameters=[OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER)],
        summary="One order with its lines, addresses, payments, shipments and timeline",
        operation_id="orders_retrieve",
    )
    def get(self, request: Request, order_id: int) -> Response:
        order = get_object_or_404(
            Order.objects.select_related("status", "channel").prefetch_related(
                "lines",
                "shipments",
                Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            ),
            pk=order_id,
        )
        data = OrderDetailSerializer(order).data
        etag = etag_of(data)
        headers = {"ETag": etag}
        if matches(request.headers.get("If-None-Match", ""), etag):
            return Response(status=http.HTTP_304_NOT_MODIFIED, headers=headers)
        return Response(data, headers=headers)


class OrderStatusChange(ApiView):
    @extend_schema(
        request=StatusChangeSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: StatusChangeResultSerializer, **WRITE_ERRORS},
        summary="Move the order to another status (as the order page does)",
        operation_id="orders_status_change",
    )
    def post(self, request: Request, order_id: int) -> Response:
        return idempotency.run_once(
            request,
            lambda: self._change(request, order_id),
            lambda error: handle_exception(error, self.get_exception_handler_context()),
        )

    def _change(self, request: Request, order_id: int) -> Response:
        order = get_object_or_404(Order.objects.select_related("status"), pk=order_id)
        body = StatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new_status = OrderStatus.objects.filter(pk=body.validated_data["status"]).first()
        if new_status is None:
            raise ApiError(
                _("This status does not exist."),
                code="status_unknown",
                field="status",
                status_code=400,
            )
        actor = request.user if request.user.is_authenticated else None
        changed = changes.change_order_status(order, new_status, actor)
        return Response(
            {"changed": changed, "status": {"id": new_status.pk, "name": new_status.name}}
        )


class StatusList(ApiView):
    @extend_schema(
        responses={200: StatusSerializer(many=True), **ERRORS}, operation_id="statuses_list"
    )
    def get(self, request: Request) -> Response:
        statuses = OrderStatus.objects.filter(tenant=self.key.tenant).order_by("position", "pk")
        return Response(StatusSerializer(statuses, many=True).data)


class ChannelList(ApiView):
    @extend_schema(
        responses={200: ChannelSerializer(many=True), **ERRORS}, operation_id="channels_list"
    )
    def get(self, request: Request) -> Response:
        channels = list(SalesChannel.objects.filter(tenant=self.key.tenant).order_by("name", "pk"))
        for channel, health in zip(channels, health_of_channels(channels), strict=True):
            # SyncHealth reads as a mapping of a few figures; the serializer gets all it shows.
            figures = {name: getattr(health, str(name)) for name in SyncHealthSerializer().fields}
            channel.health = figures  # type: ignore[attr-defined]  # read by the serializer
        return Response(ChannelSerializer(channels, many=True).data)
