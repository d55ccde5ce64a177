"""/api/v1/offers/ and /api/v1/products/: thin views over the catalogue, as api.views does
orders. Reads filter the key's tenant (inside its scope, so another tenant's ids are not found);
writes go through catalog.services.products and catalog.services.stock; every POST takes an
Idempotency-Key.

Lists are keyset pages (no OFFSET): offers newest stored first, products by name, a product's
stock changes newest first. A cursor names its list and the row it follows (or precedes).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from django.db.models import Exists, Model, OuterRef, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status as http
from rest_framework.request import Request
from rest_framework.response import Response

from api import idempotency
from api.errors import ApiError, handle_exception
from api.serializers import ErrorSerializer
from api.serializers_catalog import (
    NewProductSerializer,
    NewStockChangeSerializer,
    OfferFilterSerializer,
    OfferPageSerializer,
    OfferSerializer,
    PageQuerySerializer,
    ProductDetailSerializer,
    ProductFilterSerializer,
    ProductPageSerializer,
    ProductSerializer,
    ProductWriteSerializer,
    StockChangePageSerializer,
    StockChangeResultSerializer,
    StockChangeSerializer,
)
from api.views import ERRORS, IDEMPOTENCY_KEY, WRITE_ERRORS, ApiView, etag_of, matches
from catalog.models import Offer, Product, ProductStockChange
from catalog.services import products, stock
from catalog.services.offers import OfferFilters, filtered_offers

_MAX_ID = 2**63 - 1
IF_NONE_MATCH = OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER)
PRODUCT_WRITE_ERRORS = {
    **WRITE_ERRORS,
    409: OpenApiResponse(ErrorSerializer, description="Another product has this SKU."),
}

# ----------------------------------------------------------------------------- keyset pages


@dataclass(frozen=True)
class Keyset:
    """A list's order: its name (in the cursor), the columns and their kinds, the direction."""

    name: str
    columns: tuple[str, ...]
    kinds: tuple[type, ...]
    descending: bool


OFFERS = Keyset("offers", ("id",), (int,), descending=True)
PRODUCTS = Keyset("products", ("name", "id"), (str, int), descending=False)
STOCK_CHANGES = Keyset("stock_changes", ("id",), (int,), descending=True)


def _encode(keyset: Keyset, row: Model, before: bool) -> str:
    values = [getattr(row, column) for column in keyset.columns]
    payload = json.dumps([keyset.name, values, int(before)], ensure_ascii=False)
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(keyset: Keyset, text: str) -> tuple[list[Any], bool]:
    """The cursor's row values and direction; a cursor of another list or a broken one is a
    400 (as the orders' cursor)."""
    try:
        payload = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        name, values, before = payload
        if name != keyset.name or before not in (0, 1) or len(values) != len(keyset.kinds):
            raise ValueError(name)
        if not all(type(v) is k for v, k in zip(values, keyset.kinds, strict=True)):
            raise ValueError(values)
        if not 0 < values[-1] <= _MAX_ID:
            raise ValueError(values)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApiError(
            _("This cursor is not valid for this list; start from the first page."),
            code="cursor_invalid",
            field="cursor",
            status_code=400,
        ) from exc
    return values, bool(before)


def _beyond(keyset: Keyset, values: list[Any], backwards: bool) -> Q:
    """The rows after the cursor's row in the walk's direction (lexicographic on the columns)."""
    op = "lt" if keyset.descending != backwards else "gt"
    condition = Q()
    for n, column in enumerate(keyset.columns):
        same = {c: v for c, v in zip(keyset.columns[:n], values[:n], strict=True)}
        condition |= Q(**same, **{f"{column}__{op}": values[n]})
    return condition


def page(keyset: Keyset, qs: QuerySet[Any], params: dict[str, Any]) -> dict[str, Any]:
    """One page of ``qs`` after (or before) the cursor in ``params``: the rows, and the
    cursors of the next and previous pages (None where there is none)."""
    size = params["limit"]
    cursor = params.get("cursor")
    values, backwards = _decode(keyset, cursor) if cursor else ([], False)
    walk_desc = keyset.descending != backwards
    ordered = qs.order_by(*[("-" if walk_desc else "") + c for c in keyset.columns])
    if values:
        ordered = ordered.filter(_beyond(keyset, values, backwards))
    rows = list(ordered[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    next_cursor = previous_cursor = None
    if rows:
        if backwards:
            next_cursor = _encode(keyset, rows[-1], False)
            previous_cursor = _encode(keyset, rows[0], True) if more else None
        else:
            next_cursor = _encode(keyset, rows[-1], False) if more else None
            previous_cursor = _encode(keyset, rows[0], True) if cursor else None
    return {"rows": rows, "next_cursor": next_cursor, "previous_cursor": previous_cursor}


def _query(serializer: type[PageQuerySerializer], request: Request) -> dict[str, Any]:
    query = serializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    return dict(query.validated_data)


def _paged(found: dict[str, Any], row: Any) -> Response:
    return Response(
        {
            "results": row(found["rows"], many=True).data,
            "next_cursor": found["next_cursor"],
            "previous_cursor": found["previous_cursor"],
        }
    )


def _with_etag(request: Request, data: Any, status_code: int = http.HTTP_200_OK) -> Response:
    etag = etag_of(data)
    headers = {"ETag": etag}
    if status_code == http.HTTP_200_OK and matches(request.headers.get("If-None-Match", ""), etag):
        return Response(status=http.HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(data, status=status_code, headers=headers)


# ----------------------------------------------------------------------------- offers


class OfferList(ApiView):
    @extend_schema(
        parameters=[OfferFilterSerializer],
        responses={200: OfferPageSerializer, **ERRORS},
        summary="Offers of every channel, newest stored first, a page after a cursor",
        operation_id="offers_list",
    )
    def get(self, request: Request) -> Response:
        params = _query(OfferFilterSerializer, request)
        qs = filtered_offers(
            OfferFilters(
                query=params.get("q", ""),
                channel_id=params.get("channel"),
                status=params.get("status", ""),
                linked=params["linked"],
                stock_zero=params["stock_zero"],
                removed=params["removed"],
            )
        ).filter(tenant=self.key.tenant)
        if "sku" in params:
            qs = qs.filter(sku=params["sku"].strip())
        if "ean" in params:
            qs = qs.filter(ean="".join(params["ean"].split()))
        return _paged(page(OFFERS, qs, params), OfferSerializer)


class OfferDetail(ApiView):
    @extend_schema(
        responses={200: OfferSerializer, 304: None, **ERRORS},
        parameters=[IF_NONE_MATCH],
        summary="One offer as Allegro last showed it",
        operation_id="offers_retrieve",
    )
    def get(self, request: Request, offer_id: int) -> Response:
        offer = get_object_or_404(
            Offer.objects.select_related("channel"), tenant=self.key.tenant, pk=offer_id
        )
        return _with_etag(request, OfferSerializer(offer).data)


# ----------------------------------------------------------------------------- products

PRODUCT_EXAMPLE = OpenApiExample(
    "A product",
    request_only=True,
    value={
        "name": "Kubek ceramiczny 300 ml",
        "sku": "KUB-300",
        "ean": "5901234123457",
        "weight_kg": "0.350",
        "price": "29.99",
        "currency": "PLN",
        "initial_stock": 12,
    },
)
STOCK_EXAMPLES = [
    OpenApiExample("Set the stock", request_only=True, value={"stock": 12, "note": "Inwentura"}),
    OpenApiExample("Take two away", request_only=True, value={"delta": -2, "note": "Uszkodzone"}),
]


def _product(tenant: Any, product_id: int) -> Product:
    return get_object_or_404(Product.objects, tenant=tenant, pk=product_id)


def _detail(tenant: Any, product_id: int) -> Product:
    linked = Offer.objects.filter(tenant=tenant).select_related("channel")
    return get_object_or_404(
        Product.objects.prefetch_related(
            Prefetch(
                "offers",
                queryset=linked.order_by("channel__name", "channel_id", "pk"),
                to_attr="linked_offers",
            )
        ),
        tenant=tenant,
        pk=product_id,
    )


def _data(body: dict[str, Any], current: Product | None = None) -> products.ProductData:
    """The product as the body says it (a field left out keeps its current value)."""
    names = list(ProductWriteSerializer().fields)
    known = {name: getattr(current, name) for name in names} if current is not None else {}
    merged = {**known, **{name: body[name] for name in names if name in body}}
    return products.ProductData(
        name=merged["name"],
        sku=merged.get("sku") or "",
        ean=merged.get("ean") or "",
        weight_kg=merged.get("weight_kg"),
        length_cm=merged.get("length_cm"),
        width_cm=merged.get("width_cm"),
        height_cm=merged.get("height_cm"),
        price=merged.get("price"),
        currency=merged.get("currency") or "PLN",
    )


def _actor(request: Request) -> Any:
    # The key acts for the person who created it (as a status change's actor), else nobody.
    return request.user if request.user.is_authenticated else None


class ProductList(ApiView):
    @extend_schema(
        parameters=[ProductFilterSerializer],
        responses={200: ProductPageSerializer, **ERRORS},
        summary="The company's products by name, a page after a cursor",
        operation_id="products_list",
    )
    def get(self, request: Request) -> Response:
        params = _query(ProductFilterSerializer, request)
        tenant = self.key.tenant
        qs = Product.objects.filter(tenant=tenant)
        for word in params.get("q", "").split():
            qs = qs.filter(
                Q(name__icontains=word) | Q(sku__icontains=word) | Q(ean__icontains=word)
            )
        if "sku" in params:
            qs = qs.filter(sku=params["sku"].strip())
        if "ean" in params:
            qs = qs.filter(ean="".join(params["ean"].split()))
        if params["linked"] is not None:
            has_offers = Exists(Offer.objects.filter(tenant=tenant, product_id=OuterRef("pk")))
            qs = qs.filter(has_offers if params["linked"] else ~has_offers)
        if params["stock_zero"]:
            qs = qs.filter(stock__lte=0)
        return _paged(page(PRODUCTS, qs, params), ProductSerializer)

    @extend_schema(
        request=NewProductSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: ProductDetailSerializer, **PRODUCT_WRITE_ERRORS},
        examples=[PRODUCT_EXAMPLE],
        summary="Add a product (offers without a product that have its SKU or EAN are linked)",
        operation_id="products_create",
    )
    def post(self, request: Request) -> Response:
        return idempotency.run_once(
            request,
            lambda: self._create(request),
            lambda error: handle_exception(error, self.get_exception_handler_context()),
        )

    def _create(self, request: Request) -> Response:
        body = NewProductSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        created = products.create_product(
            self.key.tenant,
            _data(body.validated_data),
            initial_stock=body.validated_data["initial_stock"],
            actor=_actor(request),
        )
        data = ProductDetailSerializer(_detail(self.key.tenant, created.pk)).data
        return _with_etag(request, data, http.HTTP_201_CREATED)


class ProductDetail(ApiView):
    @extend_schema(
        responses={200: ProductDetailSerializer, 304: None, **ERRORS},
        parameters=[IF_NONE_MATCH],
        summary="One product with its linked offers",
        operation_id="products_retrieve",
    )
    def get(self, request: Request, product_id: int) -> Response:
        return _with_etag(
            request, ProductDetailSerializer(_detail(self.key.tenant, product_id)).data
        )

    @extend_schema(
        request=ProductWriteSerializer(partial=True),
        responses={200: ProductDetailSerializer, **PRODUCT_WRITE_ERRORS},
        examples=[
            OpenApiExample("A new price", request_only=True, value={"price": "27.50"}),
        ],
        summary="Change what the product is (never its stock: POST …/stock/ does that)",
        operation_id="products_partial_update",
    )
    def patch(self, request: Request, product_id: int) -> Response:
        product = _product(self.key.tenant, product_id)
        if isinstance(request.data, dict) and "stock" in request.data:
            raise ApiError(
                _("Stock is changed with POST …/stock/, which records why."),
                code="stock_not_editable",
                field="stock",
                status_code=400,
            )
        body = ProductWriteSerializer(data=request.data, partial=True)
        body.is_valid(raise_exception=True)
        products.edit_product(product, _data(body.validated_data, product), actor=_actor(request))
        return _with_etag(
            request, ProductDetailSerializer(_detail(self.key.tenant, product_id)).data
        )


class ProductStock(ApiView):
    @extend_schema(
        request=NewStockChangeSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: StockChangeResultSerializer, **WRITE_ERRORS},
        examples=STOCK_EXAMPLES,
        summary="Set the product's stock or add to it, as the product page does",
        operation_id="products_stock_change",
    )
    def post(self, request: Request, product_id: int) -> Response:
        return idempotency.run_once(
            request,
            lambda: self._change(request, product_id),
            lambda error: handle_exception(error, self.get_exception_handler_context()),
        )

    def _change(self, request: Request, product_id: int) -> Response:
        product = _product(self.key.tenant, product_id)
        body = NewStockChangeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        given = body.validated_data
        if ("stock" in given) == ("delta" in given):
            raise ApiError(
                _("Give either the new stock or the amount to add or take away."),
                code="stock_change_missing",
                field="stock",
                status_code=400,
            )
        change = stock.change_stock_by_hand(
            product,
            actor=_actor(request),
            new_stock=given.get("stock"),
            delta=given.get("delta"),
            note=given["note"],
        )
        return Response(
            {"stock": change.stock_after, "change": StockChangeSerializer(change).data},
            status=http.HTTP_201_CREATED,
        )


class ProductStockChanges(ApiView):
    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: StockChangePageSerializer, **ERRORS},
        summary="The product's stock changes, newest first, a page after a cursor",
        operation_id="products_stock_changes",
    )
    def get(self, request: Request, product_id: int) -> Response:
        product = _product(self.key.tenant, product_id)
        params = _query(PageQuerySerializer, request)
        qs = ProductStockChange.objects.filter(
            tenant=self.key.tenant, product_id=product.pk
        ).select_related("actor")
        return _paged(page(STOCK_CHANGES, qs, params), StockChangeSerializer)
