"""Template sets, templates, mailboxes and mails for tests (also the tenant-isolation test's
builders)."""

from __future__ import annotations

from typing import Any

from django_scopes import scope

from core.models import Tenant
from notifications.mailboxes import create_mailbox
from notifications.models import Mailbox, MailKind, MessageTemplate, OutgoingMail, TemplateSet
from notifications.outbox import queue_mail
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


def mailbox_of(tenant: Tenant) -> Mailbox:
    with scope(tenant=tenant):
        found = Mailbox.objects.filter(tenant=tenant, name="Skrzynka testowa").first()
        return found or create_mailbox(
            tenant,
            name="Skrzynka testowa",
            from_name="Sklep",
            from_address=f"sklep@{tenant.slug}.example",
            host="127.0.0.1",
            port=25,
            security="none",
            username="",
        )


def mail_of(tenant: Tenant) -> OutgoingMail:
    """A mail of the tenant in its send log (held: nothing tries to send it)."""
    with scope(tenant=tenant):
        return queue_mail(
            tenant=tenant,
            to=f"klient@{tenant.slug}.example",
            subject="Pytanie",
            text="Treść",
            kind=MailKind.TEST,
            hold_reason="test",
        )
