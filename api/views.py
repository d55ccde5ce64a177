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
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django_scopes import scope
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api import feed, idempotency, pagination
from api.authentication import BearerKeyAuthentication
from api.errors import ApiError, error_body, handle_exception
from api.models import ApiKey
from api.permissions import KeyScopePermission
from api.serializers import (
    AddShipmentSerializer,
    BulkStatusChangeResultSerializer,
    BulkStatusChangeSerializer,
    ChannelCarriersSerializer,
    ChannelSerializer,
    ErrorSerializer,
    FeedEventSerializer,
    FeedPageSerializer,
    FeedQuerySerializer,
    LabelPageSerializer,
    MailPageSerializer,
    MailQuerySerializer,
    MailSerializer,
    OrderDetailSerializer,
    OrderFilterSerializer,
    OrderListSerializer,
    OrderPageSerializer,
    PageQuerySerializer,
    ShipmentDetailSerializer,
    ShipmentPageSerializer,
    StatusChangeResultSerializer,
    StatusChangeSerializer,
    StatusSerializer,
    SyncHealthSerializer,
)
from api.throttling import KeyRateThrottle
from channels.models import SalesChannel
from fulfillment.models import ChannelCarriers, LabelJob, Shipment
from fulfillment.services import shipments
from fulfillment.services.carriers import carriers_for
from notifications.models import OutgoingMail
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
    if "carrier" in params:
        # The carrier of one of the order's shipments (an id of GET channels/{id}/carriers/).
        qs = qs.filter(
            Exists(
                Shipment.objects.filter(
                    tenant=key.tenant, order=OuterRef("pk"), carrier_id=params["carrier"]
                )
            )
        )
    if "buyer_email" in params:
        # Stored as Allegro sends it; looked up without regard to case (the index on the
        # upper-cased address: migration api 0004).
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


def _status_or_400(status_id: int) -> OrderStatus:
    found = OrderStatus.objects.filter(pk=status_id).first()
    if found is None:
        raise ApiError(
            _("This status does not exist."),
            code="status_unknown",
            field="status",
            status_code=400,
        )
    return found


class OrderBulkStatusChange(ApiView):
    @extend_schema(
        request=BulkStatusChangeSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: BulkStatusChangeResultSerializer, **WRITE_ERRORS},
        summary="Move many orders to a status; each order's result (ids not found included)",
        operation_id="orders_bulk_status_change",
        examples=[
            OpenApiExample(
                "Three orders", value={"orders": [101, 102, 999], "status": 7}, request_only=True
            ),
            OpenApiExample(
                "Per order",
                value={
                    "status": {"id": 7, "name": "W realizacji"},
                    "results": [
                        {"id": 101, "result": "changed"},
                        {"id": 102, "result": "unchanged"},
                        {"id": 999, "result": "not_found"},
                    ],
                },
                response_only=True,
            ),
        ],
    )
    def post(self, request: Request) -> Response:
        return idempotency.run_once(
            request,
            lambda: self._change(request),
            lambda error: handle_exception(error, self.get_exception_handler_context()),
        )

    def _change(self, request: Request) -> Response:
        body = BulkStatusChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        new_status = _status_or_400(body.validated_data["status"])
        actor = request.user if request.user.is_authenticated else None
        wanted = body.validated_data["orders"]
        done = changes.bulk_change_status(self.key.tenant, wanted, new_status, actor)
        outcome = {pk: "changed" for pk in done.changed}
        outcome.update({pk: "unchanged" for pk in done.unchanged})
        # Another company's id reads exactly like one that does not exist.
        outcome.update({pk: "not_found" for pk in done.not_found})
        seen: set[int] = set()
        results = []
        for pk in wanted:
            if pk not in seen:
                seen.add(pk)
                results.append({"id": pk, "result": outcome[pk]})
        return Response(
            {"status": {"id": new_status.pk, "name": new_status.name}, "results": results}
        )


def _shipment_data(shipment: Shipment) -> dict[str, Any]:
    return dict(ShipmentDetailSerializer(shipment).data)


class OrderShipments(ApiView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: ShipmentPageSerializer, **ERRORS},
        summary="The order's shipments, oldest first",
        operation_id="orders_shipments_list",
    )
    def get(self, request: Request, order_id: int) -> Response:
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        order = get_object_or_404(Order.objects.only("pk"), pk=order_id)
        rows, next_cursor = pagination.page(
            Shipment.objects.filter(tenant=self.key.tenant, order=order),
            dict(query.validated_data),
            newest_first=False,
        )
        return Response({"results": [_shipment_data(s) for s in rows], "next_cursor": next_cursor})

    @extend_schema(
        request=AddShipmentSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ShipmentDetailSerializer, **WRITE_ERRORS},
        summary="Add a shipment with its tracking number (as the order page does)",
        operation_id="orders_shipments_create",
        examples=[
            OpenApiExample(
                "Whole order",
                value={"carrier_id": "INPOST", "waybill": "620000111222333444555666"},
                request_only=True,
            ),
            OpenApiExample(
                "Another carrier, some items",
                value={
                    "carrier_id": "OTHER",
                    "carrier_name": "Kurier Lokalny",
                    "waybill": "KL-2026-0001",
                    "line_ids": ["a8f3e0d2-0000-4c1e-9d8e-1f2a3b4c5d6e"],
                },
                request_only=True,
            ),
        ],
    )
    def post(self, request: Request, order_id: int) -> Response:
        return idempotency.run_once(
            request,
            lambda: self._add(request, order_id),
            lambda error: handle_exception(error, self.get_exception_handler_context()),
        )

    def _add(self, request: Request, order_id: int) -> Response:
        order = get_object_or_404(Order.objects.select_related("channel", "status"), pk=order_id)
        body = AddShipmentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        actor = request.user if request.user.is_authenticated else None
        shipment = shipments.add_shipment(
            order,
            carrier_id=data["carrier_id"],
            carrier_name=data["carrier_name"],
            waybill=data["waybill"],
            line_ids=data["line_ids"],
            comment=data["comment"],
            actor=actor,
            carriers=[carrier for carrier, _name in carriers_for(order.channel)],
        )
        return Response(_shipment_data(shipment), status=http.HTTP_201_CREATED)


class ChannelCarrierList(ApiView):
    @extend_schema(
        responses={200: ChannelCarriersSerializer, **ERRORS},
        summary="The carriers a shipment of the channel may name (as last fetched from Allegro)",
        operation_id="channels_carriers_list",
    )
    def get(self, request: Request, channel_id: int) -> Response:
        channel = get_object_or_404(SalesChannel, pk=channel_id)
        stored = ChannelCarriers.objects.filter(tenant=self.key.tenant, channel=channel).first()
        return Response(
            {
                "channel": channel.pk,
                "fetched_at": stored.fetched_at if stored is not None else None,
                "carriers": [{"id": cid, "name": name} for cid, name in carriers_for(channel)],
            }
        )


class OrderLabels(ApiView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: LabelPageSerializer, **ERRORS},
        summary="The order's labels (Wysyłam z Allegro), newest first",
        operation_id="orders_labels_list",
    )
    def get(self, request: Request, order_id: int) -> Response:
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        order = get_object_or_404(Order.objects.only("pk"), pk=order_id)
        rows, next_cursor = pagination.page(
            LabelJob.objects.filter(tenant=self.key.tenant, order=order),
            dict(query.validated_data),
        )
        results = [
            {
                "id": job.pk,
                "state": job.state,
                "carrier": job.carrier,
                "waybills": [str(w) for w in job.waybills],
                "file_type": job.file_type,
                "has_file": bool(job.file.name),
                "created_at": job.created_at,
                "finished_at": job.finished_at,
            }
            for job in rows
        ]
        return Response({"results": results, "next_cursor": next_cursor})


LABEL_TYPES = {"PDF": "application/pdf", "ZPL": "text/plain; charset=utf-8"}


class LabelFile(ApiView):
    @extend_schema(
        responses={
            (200, "application/pdf"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The label file: PDF, or ZPL as text/plain."
            ),
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR),
            **ERRORS,
        },
        summary="The label's file (404 until it is ready)",
        operation_id="labels_file",
    )
    def get(self, request: Request, label_id: int) -> FileResponse:
        job = get_object_or_404(LabelJob.objects.select_related("order"), pk=label_id)
        if not job.file.name:
            raise Http404
        ext = "zpl" if job.file_type == "ZPL" else "pdf"
        response = FileResponse(
            job.file.open("rb"),
            content_type=LABEL_TYPES.get(job.file_type, "application/pdf"),
            as_attachment=True,
            filename=f"label-{job.order.number}.{ext}",
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        return response


class MailList(ApiView):
    @extend_schema(
        parameters=[MailQuerySerializer],
        responses={200: MailPageSerializer, **ERRORS},
        summary="E-mails to buyers and staff with what became of them, newest first",
        operation_id="mail_list",
    )
    def get(self, request: Request) -> Response:
        query = MailQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = dict(query.validated_data)
        qs = OutgoingMail.objects.filter(tenant=self.key.tenant)
        if "order" in params:
            qs = qs.filter(order_id=params["order"])
        if "state" in params:
            qs = qs.filter(state=params["state"])
        fields = list(MailSerializer().fields)
        rows, next_cursor = pagination.page(qs.only("pk", *fields), params)
        results = MailSerializer(rows, many=True).data
        return Response({"results": results, "next_cursor": next_cursor})


class EventFeed(ApiView):
    @extend_schema(
        parameters=[FeedQuerySerializer],
        responses={200: FeedPageSerializer, **ERRORS},
        summary="Every change of the company's orders in order, read on from a position",
        description=(
            "Positions follow the order in which the changes were saved and have no gaps: "
            "send the page's `next` as `from` to read on (0 reads from the beginning). An "
            "empty page keeps `next`; poll again later with it."
        ),
        operation_id="events_list",
        examples=[
            OpenApiExample(
                "A status change",
                value={
                    "results": [
                        {
                            "position": 1042,
                            "id": 88213,
                            "order_id": 5120,
                            "kind": "status_changed",
                            "description": "Status: Nowe → W realizacji",
                            "data": {
                                "from_id": 3,
                                "from_name": "Nowe",
                                "to_id": 7,
                                "to_name": "W realizacji",
                                "source": "staff",
                            },
                            "actor": "anna@sklep.example",
                            "created_at": "2026-12-04T09:15:02.118Z",
                        }
                    ],
                    "next": 1042,
                    "has_more": False,
                },
                response_only=True,
            )
        ],
    )
    def get(self, request: Request) -> Response:
        query = FeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        page = feed.read(self.key.tenant, params["from"], params["limit"])
        return Response(
            {
                "results": FeedEventSerializer(page.entries, many=True).data,
                "next": page.next,
                "has_more": page.has_more,
            }
        )


@csrf_exempt
def unknown_path(request: HttpRequest, *args: Any, **kwargs: Any) -> JsonResponse:
    """Any other path under /api/: the API's 404 body, not the HTML error page."""
    return JsonResponse(error_body("not_found", _("Not found.")), status=404)
