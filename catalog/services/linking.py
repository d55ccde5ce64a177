"""Which product an offer sells and which offer and product an order line sold.

This module owns ``Offer.product`` and ``Offer.link`` (the offers' importer writes every other
field of an offer) and every ``OrderLineLink``.

Automatic linking (``link_offers``): an offer goes to the product with exactly its SKU
(compared as Allegro and the unique constraint compare it: case and all, spaces around
trimmed), else to the one product with its EAN (leading zeros aside: an EAN-13 and the GTIN-14
that pads it are one code); an EAN several products share links nothing, and the linking screen
lists the offer as ambiguous. Links made by hand (``link = manual``, also "unlinked by hand":
manual with no product) and offers a product was created from are never changed by it. An
offer it linked whose SKU or EAN changed on Allegro is linked again, or unlinked when nothing
matches any more.

Order lines (``link_order_lines``): each line gets its ``OrderLineLink`` with the offer of its
offer id on the order's channel and that offer's product, else the product with the line's
SKU. A line whose product is not known yet is found again, by its offer id, when its offer is
linked later. A line keeps the product it was linked to: what was sold does not change when
the offer is linked to another product afterwards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.contrib.postgres.lookups import TrigramSimilar
from django.contrib.postgres.search import TrigramSimilarity
from django.db import transaction
from django.db.models import Count, F, Q, Value
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Offer, OfferLink, OrderLineLink, Product
from core.errors import UserError
from orders.models import OrderLine

AUTOMATIC = (OfferLink.SKU, OfferLink.EAN)
SUGGESTIONS = 3


class LinkError(UserError):
    """A link a person asked for that cannot be made."""


def ean_variants(ean: str) -> list[str]:
    """The ways one GTIN is written: as given, and zero-padded to 8, 12, 13 and 14 digits."""
    ean = "".join(ean.split())
    if not ean:
        return []
    if not ean.isdigit():
        return [ean]
    core = ean.lstrip("0") or "0"
    return sorted({ean, *(core.zfill(n) for n in (8, 12, 13, 14) if len(core) <= n)})


def _ean_key(ean: str) -> str:
    ean = "".join(ean.split())
    return (ean.lstrip("0") or "0") if ean.isdigit() else ean


# --------------------------------------------------------------------------- offers
def link_offers(tenant_id: int, offer_ids: list[int]) -> int:
    """Link the given offers (without a product, or linked automatically) to products by SKU,
    then by EAN; link the lines of their orders that have no product yet. Returns how many
    offers were linked to a product (newly or to another one)."""
    if not offer_ids:
        return 0
    with transaction.atomic():
        offers = list(
            Offer.objects.select_for_update()
            .filter(tenant_id=tenant_id, pk__in=sorted(set(offer_ids)))
            .exclude(link__in=[OfferLink.MANUAL, OfferLink.CREATED])
            .order_by("pk")
        )
        by_sku, by_ean = _matching_products(tenant_id, offers)
        now = timezone.now()
        changed: list[Offer] = []
        for offer in offers:
            product_id, how = _match(offer, by_sku, by_ean)
            if (offer.product_id, offer.link) == (product_id, how):
                continue
            offer.product_id, offer.link, offer.updated_at = product_id, how, now
            changed.append(offer)
        Offer.objects.bulk_update(changed, ["product", "link", "updated_at"])
        linked = [o for o in changed if o.product_id is not None]
        link_lines_of_offers(tenant_id, linked)
    return len(linked)


def _matching_products(
    tenant_id: int, offers: Sequence[Offer]
) -> tuple[dict[str, int], dict[str, set[int]]]:
    skus = {o.sku.strip() for o in offers if o.sku.strip()}
    variants = {v for o in offers for v in ean_variants(o.ean)}
    by_sku: dict[str, int] = {}
    if skus:
        by_sku = dict(
            Product.objects.filter(tenant_id=tenant_id, sku__in=skus).values_list("sku", "pk")
        )
    by_ean: dict[str, set[int]] = defaultdict(set)
    if variants:
        for pk, ean in Product.objects.filter(tenant_id=tenant_id, ean__in=variants).values_list(
            "pk", "ean"
        ):
            by_ean[_ean_key(ean)].add(pk)
    return by_sku, by_ean


def _match(
    offer: Offer, by_sku: dict[str, int], by_ean: dict[str, set[int]]
) -> tuple[int | None, str]:
    sku = offer.sku.strip()
    if sku and sku in by_sku:
        return by_sku[sku], OfferLink.SKU
    found = by_ean.get(_ean_key(offer.ean), set()) if offer.ean.strip() else set()
    if len(found) == 1:
        return next(iter(found)), OfferLink.EAN
    return None, ""


def link_by_hand(
    tenant_id: int, offer_ids: Iterable[int], product_id: int, actor: Any = None
) -> int:
    """Link the company's offers among ``offer_ids`` to its product, by hand: automatic
    linking leaves them so from now on. Returns how many offers were linked."""
    product = Product.objects.filter(tenant_id=tenant_id, pk=product_id).first()
    if product is None:
        raise LinkError(_("Choose one of your products."), code="product_missing", field="product")
    with transaction.atomic():
        offers = list(
            Offer.objects.select_for_update()
            .filter(tenant_id=tenant_id, pk__in=sorted({int(i) for i in offer_ids}))
            .order_by("pk")
        )
        now = timezone.now()
        for offer in offers:
            offer.product_id, offer.link, offer.updated_at = product.pk, OfferLink.MANUAL, now
        Offer.objects.bulk_update(offers, ["product", "link", "updated_at"])
        link_lines_of_offers(tenant_id, offers)
    return len(offers)


def unlink_by_hand(tenant_id: int, offer_ids: Iterable[int], actor: Any = None) -> int:
    """Unlink the company's offers among ``offer_ids`` from their products, by hand: automatic
    linking does not link them again (a link by hand or "create products" does). Order lines
    keep the product they sold. Returns how many offers were unlinked."""
    with transaction.atomic():
        return Offer.objects.filter(
            tenant_id=tenant_id,
            pk__in=sorted({int(i) for i in offer_ids}),
            product__isnull=False,
        ).update(product=None, link=OfferLink.MANUAL, updated_at=timezone.now())


# --------------------------------------------------------------------------- order lines
def link_lines_of_offers(tenant_id: int, offers: Sequence[Offer]) -> int:
    """Lines of the offers' orders that have no product yet get the offer and its product.
    Returns how many lines were linked."""
    wanted = {(o.channel_id, o.external_id): o for o in offers if o.product_id is not None}
    if not wanted:
        return 0
    rows = list(
        OrderLineLink.objects.filter(
            tenant_id=tenant_id,
            offer_external_id__in=sorted({ext for _, ext in wanted}),
            product__isnull=True,
        ).annotate(channel_id=F("order__channel_id"))
    )
    changed = []
    for row in rows:
        offer = wanted.get((row.channel_id, row.offer_external_id))
        if offer is not None:
            row.offer_id, row.product_id = offer.pk, offer.product_id
            changed.append(row)
    OrderLineLink.objects.bulk_update(changed, ["offer", "product"])
    return len(changed)


def link_order_lines(tenant_id: int, order_ids: list[int]) -> None:
    """An ``OrderLineLink`` for every line of the orders: the offer of the line's offer id on
    the order's channel and the offer's product, else the product with the line's SKU. Lines
    linked to a product already are left as they are."""
    if not order_ids:
        return
    # The lines with their links, in one query: a line linked to a product is done.
    waiting = list(
        OrderLine.objects.filter(tenant_id=tenant_id, order_id__in=order_ids)
        .filter(Q(catalog_link__isnull=True) | Q(catalog_link__product__isnull=True))
        .annotate(channel_id=F("order__channel_id"))
        .select_related("catalog_link")
        .only("pk", "order_id", "offer_id", "sku", "catalog_link")
        .order_by("pk")
    )
    if not waiting:
        return
    offer_ids = {line.offer_id for line in waiting if line.offer_id}
    # Locked (no key update) against link_offers: an offer linked while this import runs is
    # either seen linked here or finds this import's lines once it commits.
    offers = (
        {
            (o.channel_id, o.external_id): o
            for o in Offer.objects.select_for_update(no_key=True)
            .filter(tenant_id=tenant_id, external_id__in=sorted(offer_ids))
            .only("pk", "channel_id", "external_id", "product_id")
            .order_by("pk")
        }
        if offer_ids
        else {}
    )
    skus = {line.sku.strip() for line in waiting if line.sku.strip()}
    by_sku = (
        dict(Product.objects.filter(tenant_id=tenant_id, sku__in=skus).values_list("sku", "pk"))
        if skus
        else {}
    )
    new_rows: list[OrderLineLink] = []
    updated: list[OrderLineLink] = []
    for line in waiting:
        offer = offers.get((line.channel_id, line.offer_id))
        product_id = offer.product_id if offer is not None else None
        if product_id is None:
            product_id = by_sku.get(line.sku.strip())
        row = getattr(line, "catalog_link", None)
        if row is None:
            new_rows.append(
                OrderLineLink(
                    tenant_id=tenant_id,
                    line_id=line.pk,
                    order_id=line.order_id,
                    offer_id=offer.pk if offer is not None else None,
                    product_id=product_id,
                    offer_external_id=line.offer_id,
                )
            )
        elif (row.offer_id, row.product_id) != (offer.pk if offer else None, product_id):
            row.offer_id = offer.pk if offer is not None else None
            row.product_id = product_id
            row.offer_external_id = line.offer_id
            updated.append(row)
    OrderLineLink.objects.bulk_create(new_rows)
    OrderLineLink.objects.bulk_update(updated, ["offer", "product", "offer_external_id"])


# --------------------------------------------------------------------------- the linking screen
def suggestions(tenant_id: int, offers: Sequence[Offer]) -> dict[int, list[Product]]:
    """For each offer, up to three of the company's products with the most similar names
    (PostgreSQL trigrams; the index over tenant and name serves the ``%`` match)."""
    found: dict[int, list[Product]] = {}
    for offer in offers:
        if not offer.name.strip():
            found[offer.pk] = []
            continue
        found[offer.pk] = list(
            Product.objects.filter(
                TrigramSimilar(F("name"), Value(offer.name)), tenant_id=tenant_id
            )
            .annotate(similarity=TrigramSimilarity("name", offer.name))
            .order_by("-similarity", "pk")[:SUGGESTIONS]
        )
    return found


def ambiguous_eans(tenant_id: int, offers: Sequence[Offer]) -> set[int]:
    """The offers (of those without a product) whose EAN several products share."""
    keys = {o.pk: _ean_key(o.ean) for o in offers if o.product_id is None and o.ean.strip()}
    variants = {v for o in offers if o.pk in keys for v in ean_variants(o.ean)}
    if not variants:
        return set()
    per_key: dict[str, int] = defaultdict(int)
    for ean, n in (
        Product.objects.filter(tenant_id=tenant_id, ean__in=variants)
        .values_list("ean")
        .annotate(n=Count("pk"))
        .values_list("ean", "n")
    ):
        per_key[_ean_key(ean)] += n
    return {pk for pk, key in keys.items() if per_key.get(key, 0) > 1}
