"""Template sets, their templates and the per-channel allowances of forbidden categories.

Owns TemplateSet, MessageTemplate and CategoryAllowance: every write of them is a function here
(views and forms validate and call these). Templates are written in the safe renderer's syntax
(core.renderer, the ORDER_MESSAGE variables of core.variables), never the Django template
engine; a template with an unknown variable, or one whose subject or body renders empty for an
order lacking every variable that can be empty, is refused when it is saved.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope

from channels.models import ChannelKind, SalesChannel
from core.models import Tenant
from core.renderer import problems, render, render_html
from core.variables import Context, variables_for
from notifications.models import (
    FORBIDDEN_ON_ALLEGRO,
    Category,
    CategoryAllowance,
    Language,
    MessageTemplate,
    TemplateSet,
    Trigger,
)
from orders.models import OrderStatus, SystemStatus


class TemplateError(Exception):
    """A set or template the rules refuse; ``errors`` maps field names to messages."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        super().__init__("; ".join(m for ms in errors.values() for m in ms))
        self.errors = dict(errors)


# Variables that are empty for some orders (no shipment yet, zone off, no name or delivery).
MAY_BE_EMPTY = frozenset(
    {
        "order.tracking",
        "order.customer_zone_url",
        "order.delivery_cost",
        "order.delivery_address",
        "order.delivery_method",
        "buyer.name",
        "shipment.waybill",
        "shipment.carrier",
        "shipment.tracking_url",
    }
)


def example_values() -> dict[str, str]:
    """The catalogue's example values: what the editor shows without an order."""
    return {v.name: v.example for v in variables_for(Context.ORDER_MESSAGE)}


def _least_values() -> dict[str, str]:
    """The examples with every variable that can be empty emptied: the worst order."""
    return {name: "" if name in MAY_BE_EMPTY else value for name, value in example_values().items()}


def check_template(
    *, trigger: str, status: OrderStatus | None, subject: str, body_text: str, body_html: str
) -> dict[str, list[str]]:
    """Everything wrong with a template's fields (empty: it can be saved). A subject or body
    that renders empty for an order lacking the variables that can be empty is refused."""
    errors: dict[str, list[str]] = {}
    texts = {"subject": subject, "body_text": body_text, "body_html": body_html}
    for name, text in texts.items():
        found = problems(text or "", Context.ORDER_MESSAGE)
        if found:
            errors[name] = [p.message for p in found]
    least = _least_values()
    empty = _(
        "This can be empty: it has only variables that some orders lack (such as tracking or "
        "the customer zone link). Add some text of your own."
    )
    if "subject" not in errors and not render(subject or "", least).strip():
        errors["subject"] = [empty]
    if "body_text" not in errors and not render(body_text or "", least).strip():
        errors["body_text"] = [empty]
    if body_html and "body_html" not in errors and not render_html(body_html, least).strip():
        errors["body_html"] = [empty]
    if "\n" in (subject or "") or "\r" in (subject or ""):
        errors.setdefault("subject", []).append(_("A subject is one line."))
    if trigger == Trigger.STATUS_ENTERED and status is None:
        errors["status"] = [_("Choose the status whose entry sends this mail.")]
    return errors


# --- Sets -----------------------------------------------------------------------------------


def create_set(tenant: Tenant, *, name: str, language: str) -> TemplateSet:
    with scope(tenant=tenant), transaction.atomic():
        template_set = TemplateSet(tenant=tenant, name=name.strip(), language=language)
        _save_named(template_set)
        return template_set


def update_set(template_set: TemplateSet, *, name: str, language: str) -> TemplateSet:
    with transaction.atomic():
        template_set.name = name.strip()
        template_set.language = language
        _save_named(template_set)
        return template_set


def _save_named(template_set: TemplateSet) -> None:
    try:
        with transaction.atomic():
            template_set.save()
    except IntegrityError:
        raise TemplateError(
            {"name": [_("A template set with this name already exists.")]}
        ) from None


def delete_set(template_set: TemplateSet) -> None:
    """Delete a set and its templates; channels that used it send no customer mails."""
    template_set.delete()


def copy_set(template_set: TemplateSet, *, name: str) -> TemplateSet:
    """A new set with the same language and a copy of every template."""
    with transaction.atomic():
        copy = TemplateSet(
            tenant_id=template_set.tenant_id, name=name.strip(), language=template_set.language
        )
        _save_named(copy)
        MessageTemplate.objects.bulk_create(
            [
                MessageTemplate(
                    tenant_id=template_set.tenant_id,
                    template_set=copy,
                    name=t.name,
                    trigger=t.trigger,
                    status_id=t.status_id,
                    category=t.category,
                    subject=t.subject,
                    body_text=t.body_text,
                    body_html=t.body_html,
                    is_active=t.is_active,
                )
                for t in template_set.templates.all()
            ]
        )
        return copy


def copy_name(template_set: TemplateSet) -> str:
    """A free name for a copy: "<name> (copy)", "<name> (copy 2)", …"""
    taken = set(
        TemplateSet.objects.filter(tenant_id=template_set.tenant_id).values_list("name", flat=True)
    )
    base = _("%(name)s (copy)") % {"name": template_set.name}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = _("%(name)s (copy %(n)d)") % {"name": template_set.name, "n": n}
    return candidate[:100]


# --- Templates ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateData:
    name: str
    trigger: str
    status: OrderStatus | None
    category: str
    subject: str
    body_text: str
    body_html: str
    is_active: bool = True


def save_template(
    template_set: TemplateSet, data: TemplateData, template: MessageTemplate | None = None
) -> MessageTemplate:
    """Create (``template`` None) or update a template of the set; TemplateError if refused."""
    status = data.status if data.trigger == Trigger.STATUS_ENTERED else None
    errors = check_template(
        trigger=data.trigger,
        status=status,
        subject=data.subject,
        body_text=data.body_text,
        body_html=data.body_html,
    )
    if status is not None and status.tenant_id != template_set.tenant_id:
        errors["status"] = [_("Choose one of your statuses.")]
    if errors:
        raise TemplateError(errors)
    if template is None:
        template = MessageTemplate(tenant_id=template_set.tenant_id, template_set=template_set)
    template.name = data.name.strip()
    template.trigger = data.trigger
    template.status = status
    template.category = data.category
    template.subject = data.subject.strip()
    template.body_text = data.body_text
    template.body_html = data.body_html
    template.is_active = data.is_active
    template.save()
    return template


def delete_template(template: MessageTemplate) -> None:
    template.delete()


# --- The category guard ---------------------------------------------------------------------


def is_forbidden_for(channel: SalesChannel, category: str) -> bool:
    """Does Allegro forbid this category to the channel's buyers (before any allowance)?"""
    return channel.kind == ChannelKind.ALLEGRO and category in FORBIDDEN_ON_ALLEGRO


def allowances_of(channel: SalesChannel) -> dict[str, CategoryAllowance]:
    return {
        a.category: a
        for a in CategoryAllowance.objects.filter(
            tenant_id=channel.tenant_id, channel=channel
        ).select_related("allowed_by")
    }


def allow_category(channel: SalesChannel, category: str, actor: User) -> CategoryAllowance:
    """An administrator allows a category Allegro forbids on this channel (idempotent)."""
    if category not in FORBIDDEN_ON_ALLEGRO:
        raise ValidationError(_("This category is allowed anyway."))
    allowance, _created = CategoryAllowance.objects.get_or_create(
        tenant_id=channel.tenant_id,
        channel=channel,
        category=category,
        defaults={"allowed_by": actor, "allowed_at": timezone.now()},
    )
    return allowance


def withdraw_category(channel: SalesChannel, category: str) -> None:
    CategoryAllowance.objects.filter(
        tenant_id=channel.tenant_id, channel=channel, category=category
    ).delete()


# --- The default sets -----------------------------------------------------------------------

_POLISH_TEMPLATES = [
    (
        "Potwierdzenie zamówienia",
        Trigger.ORDER_IMPORTED,
        "",
        Category.ORDER_CONFIRMATION,
        "Zamówienie {order.number} zostało przyjęte",
        "Dzień dobry {buyer.name},\n\n"
        "dziękujemy za zamówienie {order.number} z dnia {order.created_at}.\n\n"
        "{order.items}\n\n"
        "Dostawa: {order.delivery_method} ({order.delivery_cost})\n"
        "Razem: {order.total}\n\n"
        "Stan zamówienia: {order.customer_zone_url}\n\n"
        "{channel.name}\n",
    ),
    (
        "Zamówienie wysłane",
        Trigger.STATUS_ENTERED,
        SystemStatus.SENT,
        Category.STATUS_UPDATE,
        "Zamówienie {order.number}: {order.status}",
        "Dzień dobry {buyer.name},\n\n"
        "zamówienie {order.number} ma teraz status „{order.status}”.\n\n"
        "{order.tracking}\n\n"
        "{channel.name}\n",
    ),
    (
        "Numer przesyłki",
        Trigger.SHIPMENT_ADDED,
        "",
        Category.TRACKING,
        "Przesyłka do zamówienia {order.number}",
        "Dzień dobry {buyer.name},\n\n"
        "paczkę z zamówieniem {order.number} nadaliśmy: {shipment.carrier}, "
        "numer {shipment.waybill}.\n"
        "{shipment.tracking_url}\n\n"
        "{channel.name}\n",
    ),
]

_ENGLISH_TEMPLATES = [
    (
        "Order confirmation",
        Trigger.ORDER_IMPORTED,
        "",
        Category.ORDER_CONFIRMATION,
        "Your order {order.number} is confirmed",
        "Hello {buyer.name},\n\n"
        "thank you for your order {order.number} of {order.created_at}.\n\n"
        "{order.items}\n\n"
        "Delivery: {order.delivery_method} ({order.delivery_cost})\n"
        "Total: {order.total}\n\n"
        "Your order online: {order.customer_zone_url}\n\n"
        "{channel.name}\n",
    ),
    (
        "Order sent",
        Trigger.STATUS_ENTERED,
        SystemStatus.SENT,
        Category.STATUS_UPDATE,
        "Order {order.number}: {order.status}",
        "Hello {buyer.name},\n\n"
        "your order {order.number} is now “{order.status}”.\n\n"
        "{order.tracking}\n\n"
        "{channel.name}\n",
    ),
    (
        "Tracking number",
        Trigger.SHIPMENT_ADDED,
        "",
        Category.TRACKING,
        "Your parcel for order {order.number}",
        "Hello {buyer.name},\n\n"
        "your order {order.number} is on its way: {shipment.carrier}, "
        "tracking number {shipment.waybill}.\n"
        "{shipment.tracking_url}\n\n"
        "{channel.name}\n",
    ),
]

DEFAULT_SETS = [
    ("Domyślny (polski)", Language.POLISH, _POLISH_TEMPLATES),
    ("Default (English)", Language.ENGLISH, _ENGLISH_TEMPLATES),
]


def seed_default_sets(tenant: Tenant) -> list[TemplateSet]:
    """The default sets of a company (idempotent: a set whose name exists is left alone)."""
    with scope(tenant=tenant), transaction.atomic():
        statuses = {
            s.system_code: s
            for s in OrderStatus.objects.filter(tenant=tenant).exclude(system_code="")
        }
        existing = set(TemplateSet.objects.filter(tenant=tenant).values_list("name", flat=True))
        created = []
        for name, language, templates in DEFAULT_SETS:
            if name in existing:
                continue
            template_set = TemplateSet(tenant=tenant, name=name, language=language)
            template_set.save()
            rows = []
            for t_name, trigger, code, category, subject, body in templates:
                status = statuses.get(code) if code else None
                if trigger == Trigger.STATUS_ENTERED and status is None:
                    continue
                rows.append(
                    MessageTemplate(
                        tenant=tenant,
                        template_set=template_set,
                        name=t_name,
                        trigger=trigger,
                        status=status,
                        category=category,
                        subject=subject,
                        body_text=body,
                    )
                )
            MessageTemplate.objects.bulk_create(rows)
            created.append(template_set)
        return created
