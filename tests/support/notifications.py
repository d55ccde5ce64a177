"""Template sets and templates for tests (also the tenant-isolation test's builders)."""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from core.models import Tenant
from notifications.models import MessageTemplate, TemplateSet
from notifications.template_sets import TemplateData, save_template


def set_of(tenant: Tenant, name: str = "Zestaw testowy", language: str = "pl") -> TemplateSet:
    with scope(tenant=tenant):
        template_set, _created = TemplateSet.objects.get_or_create(
            tenant=tenant, name=name, defaults={"language": language}
        )
    return template_set


def template_of(
    tenant: Tenant, template_set: TemplateSet | None = None, **fields: Any
) -> MessageTemplate:
    """A template of the tenant's test set (or ``template_set``), saved through the service."""
    template_set = template_set or set_of(tenant)
    data: dict[str, Any] = {
        "name": "Pytanie",
        "trigger": "order_imported",
        "status": None,
        "category": "other",
        "subject": "Pytanie o zamówienie {order.number}",
        "body_text": "Dzień dobry {buyer.name}, mamy pytanie o {order.number}.",
        "body_html": "",
    }
    data.update(fields)
    with scope(tenant=tenant):
        return save_template(template_set, TemplateData(**data))
