"""The company's products: creating, editing and deleting them, and making them from offers.

This module owns every write of ``Product`` except its ``stock``, which only
``catalog.services.stock`` changes (a new product's first stock included, as an import). A
product's SKU is unique in the company and compared exactly, as Allegro compares an offer's
``external.id``; its EAN, where given, is a valid GTIN (8, 12, 13 or 14 digits with the right
check digit).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer, OfferLink, Product, StockReason
from catalog.services import linking
from catalog.services.stock import change_stock
from core.errors import UserError
from core.models import Tenant

GTIN_LENGTHS = (8, 12, 13, 14)


class ProductError(UserError):
    """A product the company cannot have as given (a SKU taken, an EAN that is no EAN)."""


@dataclasses.dataclass(frozen=True)
class ProductData:
    """What a person (or an offer) says a product is; everything but its stock."""

    name: str
    sku: str = ""
    ean: str = ""
    weight_kg: Decimal | None = None
    length_cm: Decimal | None = None
    width_cm: Decimal | None = None
    height_cm: Decimal | None = None
    price: Decimal | None = None
    currency: str = "PLN"

    def cleaned(self) -> ProductData:
        return dataclasses.replace(
            self,
            name=self.name.strip(),
            sku=self.sku.strip(),
            ean="".join(self.ean.split()),
            currency=(self.currency or "PLN").strip().upper(),
        )


def ean_is_valid(ean: str) -> bool:
    """A GTIN-8, -12 (UPC), -13 (EAN) or -14 with its check digit right."""
    if not ean.isdigit() or not ean.isascii() or len(ean) not in GTIN_LENGTHS:
        return False
    body, check = ean[:-1], int(ean[-1])
    # From the right: 3, 1, 3, 1, … (the check digit itself is not weighed).
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _check(tenant_id: int, data: ProductData, *, exclude_pk: int | None = None) -> None:
    if data.ean and not ean_is_valid(data.ean):
        raise ProductError(
            _("This is not a valid EAN: it has 8, 12, 13 or 14 digits and a matching check digit."),
            code="ean_invalid",
            field="ean",
        )
    if data.sku:
        taken = Product.objects.filter(tenant_id=tenant_id, sku=data.sku)
        if exclude_pk is not None:
            taken = taken.exclude(pk=exclude_pk)
        if taken.exists():
            raise _sku_taken(data.sku)


def _sku_taken(sku: str) -> ProductError:
    return ProductError(
        _("Another product already has the SKU %(sku)s.") % {"sku": sku},
        code="sku_taken",
        field="sku",
    )


def _fields(data: ProductData) -> dict[str, Any]:
    return {f.name: getattr(data, f.name) for f in dataclasses.fields(data)}


def _initial_stock(product: Product, quantity: int, reason: str, actor: Any) -> None:
    """A new product's first stock, written like every change of stock (its timeline's first
    entry)."""
    if quantity == 0:
        return
    change_stock(product, new_stock=quantity, reason=reason, actor=actor)


def _new_product(
    tenant_id: int,
    data: ProductData,
    stock: int,
    *,
    reason: str = StockReason.IMPORT,
    actor: Any = None,
) -> Product:
    try:
        with transaction.atomic():
            product = Product.objects.create(tenant_id=tenant_id, **_fields(data))
    except IntegrityError as exc:
        # Two people saving the same SKU at once: the unique constraint decides.
        raise _sku_taken(data.sku) from exc
    _initial_stock(product, stock, reason, actor)
    return product


def create_product(
    tenant: Tenant, data: ProductData, *, initial_stock: int = 0, actor: Any = None
) -> Product:
    """A new product; offers without a product whose SKU (then EAN) it has are linked to it,
    and so are their orders' lines."""
    data = data.cleaned()
    with transaction.atomic():
        _check(tenant.pk, data)
        product = _new_product(
            tenant.pk, data, initial_stock, reason=StockReason.MANUAL, actor=actor
        )
        linking.link_offers(tenant.pk, _candidate_offers(tenant.pk, product))
    return product


def edit_product(product: Product, data: ProductData, *, actor: Any = None) -> Product:
    """Change what a product is (never its stock). A changed SKU or EAN re-links the offers
    linked to it automatically and links offers without a product that now match."""
    data = data.cleaned()
    with transaction.atomic():
        locked = Product.objects.select_for_update().get(tenant_id=product.tenant_id, pk=product.pk)
        _check(locked.tenant_id, data, exclude_pk=locked.pk)
        matching_changed = (locked.sku, locked.ean) != (data.sku, data.ean)
        for name, value in _fields(data).items():
            setattr(locked, name, value)
        locked.updated_at = timezone.now()
        try:
            with transaction.atomic():
                locked.save(update_fields=[*_fields(data), "updated_at"])
        except IntegrityError as exc:
            raise _sku_taken(data.sku) from exc
        if matching_changed:
            auto = Offer.objects.filter(
                tenant_id=locked.tenant_id,
                product_id=locked.pk,
                link__in=[OfferLink.SKU, OfferLink.EAN],
            ).values_list("pk", flat=True)
            linking.link_offers(
                locked.tenant_id, [*auto, *_candidate_offers(locked.tenant_id, locked)]
            )
    return locked


def _candidate_offers(tenant_id: int, product: Product) -> list[int]:
    """Offers without a product (and not unlinked by hand) that this product could take."""
    match = Q()
    if product.sku:
        match |= Q(sku=product.sku)
    if product.ean:
        match |= Q(ean__in=linking.ean_variants(product.ean))
    if not match:
        return []
    return list(
        Offer.objects.filter(match, tenant_id=tenant_id, product__isnull=True, link="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def delete_products(tenant: Tenant, product_ids: Iterable[int], *, actor: Any = None) -> int:
    """Delete the company's products among ``product_ids``. Their offers are unlinked first
    (they stay, without a product, for the linking screen; automatic linking may link them to
    another product with their SKU or EAN); order lines keep their offer and lose the product.
    Returns how many products were deleted."""
    ids = sorted({int(pk) for pk in product_ids})
    with transaction.atomic():
        products = list(
            Product.objects.select_for_update().filter(tenant=tenant, pk__in=ids).order_by("pk")
        )
        if not products:
            return 0
        pks = [p.pk for p in products]
        Offer.objects.filter(tenant=tenant, product_id__in=pks).update(
            product=None, link="", updated_at=timezone.now()
        )
        Product.objects.filter(tenant=tenant, pk__in=pks).delete()
    return len(products)


def _offer_ean(offer: Offer) -> str:
    ean = "".join(offer.ean.split())
    return ean if ean_is_valid(ean) else ""


def create_products_from_offers(tenant: Tenant, offer_ids: Iterable[int], actor: Any = None) -> int:
    """A product for each offer among ``offer_ids`` that has none: offers sharing a SKU share
    one product (one the company already has with that SKU, or a new one), an offer without
    SKU gets a product of its own without SKU. Name, EAN and price come from the offer (the
    lowest offer id of a SKU), the first stock from its stock on Allegro (the largest of a
    SKU's offers: they sell the same goods). Offers unlinked by hand are included: choosing
    them here is a decision by hand too. Returns how many products were created."""
    ids = sorted({int(pk) for pk in offer_ids})
    created = 0
    with transaction.atomic():
        # Locked: two clicks at once make each product once.
        offers = list(
            Offer.objects.select_for_update()
            .filter(tenant=tenant, pk__in=ids, product__isnull=True)
            .order_by("pk")
        )
        groups: dict[str, list[Offer]] = {}
        single: list[Offer] = []
        for offer in offers:
            sku = offer.sku.strip()
            if sku:
                groups.setdefault(sku, []).append(offer)
            else:
                single.append(offer)
        existing = {p.sku: p for p in Product.objects.filter(tenant=tenant, sku__in=list(groups))}
        now = timezone.now()
        linked: list[Offer] = []
        for sku, group in groups.items():
            product = existing.get(sku)
            how = OfferLink.SKU
            if product is None:
                product = _new_product(
                    tenant.pk, _data_from(group[0], sku), _stock_of(group), actor=actor
                )
                created += 1
                how = OfferLink.CREATED
            for offer in group:
                offer.product, offer.link, offer.updated_at = product, how, now
                linked.append(offer)
        for offer in single:
            product = _new_product(
                tenant.pk, _data_from(offer, ""), _stock_of([offer]), actor=actor
            )
            created += 1
            offer.product, offer.link, offer.updated_at = product, OfferLink.CREATED, now
            linked.append(offer)
        Offer.objects.bulk_update(linked, ["product", "link", "updated_at"])
        linking.link_lines_of_offers(tenant.pk, linked)
    return created


def _data_from(offer: Offer, sku: str) -> ProductData:
    return ProductData(
        name=(offer.name or offer.external_id).strip()[:300],
        sku=sku,
        ean=_offer_ean(offer),
        price=offer.price,
        currency=offer.currency or "PLN",
    )


def _stock_of(offers: list[Offer]) -> int:
    return max((o.stock_available or 0 for o in offers), default=0)
