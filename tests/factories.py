"""factory_boy factories. A tenant made here gets its default statuses, as in production."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django_scopes import scope

from core.models import Membership, Role, Tenant
from orders.statuses import seed_default_statuses

DEFAULT_PASSWORD = "Correct-Horse-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    username = factory.LazyAttribute(lambda o: o.email)
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TenantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tenant
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Sklep {n}")
    slug = factory.Sequence(lambda n: f"sklep-{n}")

    @factory.post_generation
    def statuses(obj, create, extracted, **kwargs):
        if create:
            seed_default_statuses(obj)


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    tenant = factory.SubFactory(TenantFactory)
    user = factory.SubFactory(UserFactory)
    role = Role.USER


def in_scope(tenant: Tenant):
    """`with in_scope(tenant):` — the scope a tenant's request or task runs in."""
    return scope(tenant=tenant)


# --- Objects named by URL kwargs ---------------------------------------------------------
# The tenant-isolation test walks every URL pattern; for each object kwarg it builds an object
# of a given tenant with the builder registered here. A new kind of object URL needs one line.
def _status_of(tenant: Tenant):
    from orders.models import OrderStatus

    with scope(tenant=tenant):
        return OrderStatus.objects.filter(tenant=tenant, system_code="in_progress").get()


def _membership_of(tenant: Tenant):
    return MembershipFactory(tenant=tenant, role=Role.SHOP_MANAGER)


def _invitation_of(tenant: Tenant):
    from core.models import Invitation

    with scope(tenant=tenant):
        return Invitation.objects.create(
            tenant=tenant,
            email=f"invitee@{tenant.slug}.example",
            role=Role.USER,
            nonce=f"n-{tenant.pk}",
        )


def _channel_of(tenant: Tenant):
    from channels.models import SalesChannel

    with scope(tenant=tenant):
        return SalesChannel.objects.create(
            tenant=tenant,
            name="Allegro",
            alias="AL",
            allegro_login="sprzedawca",
            allegro_environment="local",
        )


def _order_of(tenant: Tenant):
    from tests.support.orders import order_of

    return order_of(tenant)


def _push_of(tenant: Tenant):
    from tests.support.fulfillment import push_of

    return push_of(tenant)


def _set_of(tenant: Tenant):
    from tests.support.notifications import set_of

    return set_of(tenant)


def _template_of(tenant: Tenant):
    from tests.support.notifications import set_of, template_of

    return template_of(tenant, set_of(tenant))


def _mailbox_of(tenant: Tenant):
    from notifications.mailboxes import create_mailbox

    with scope(tenant=tenant):
        return create_mailbox(
            tenant,
            name="Sklep",
            host="127.0.0.1",
            port=2525,
            security="none",
            username="",
            from_name="",
            from_address=f"sklep@{tenant.slug}.example",
        )


def _mail_of(tenant: Tenant):
    from django.db import transaction

    from notifications.outbox import queue_mail

    with scope(tenant=tenant), transaction.atomic():
        return queue_mail(
            tenant=tenant, to="kupujacy@example.com", subject="Pytanie", text="Treść", kind="test"
        )


def _courier_account_of(tenant: Tenant):
    from tests.support.fulfillment import courier_account_of

    return courier_account_of(tenant)


def _label_job_of(tenant: Tenant):
    from tests.support.fulfillment import label_job_of

    return label_job_of(tenant)


def _label_batch_of(tenant: Tenant):
    from tests.support.fulfillment import label_batch_of

    return label_batch_of(tenant)


def _pickup_of(tenant: Tenant):
    from tests.support.fulfillment import pickup_of

    return pickup_of(tenant)


def _protocol_of(tenant: Tenant):
    from tests.support.fulfillment import protocol_of

    return protocol_of(tenant)


def _api_key_of(tenant: Tenant):
    from tests.api.helpers import key_of

    key_of(tenant)
    from api.models import ApiKey

    with scope(tenant=tenant):
        return ApiKey.objects.filter(tenant=tenant).latest("pk")


def _product_of(tenant: Tenant):
    from tests.catalog.helpers_products import product

    return product(tenant, "Kubek", sku="KUB-1")


def _webhook_of(tenant: Tenant):
    from api.webhooks import subscriptions

    with scope(tenant=tenant):
        return subscriptions.create_subscription(
            tenant, url="http://127.0.0.1:9/hooks", events=["order.created"], created_by=None
        ).subscription


OBJECT_BUILDERS = {
    "product_id": _product_of,
    "api_key_id": _api_key_of,
    "subscription_id": _webhook_of,
    "mailbox_id": _mailbox_of,
    "mail_id": _mail_of,
    "set_id": _set_of,
    "template_id": _template_of,
    "push_id": _push_of,
    "account_id": _courier_account_of,
    "job_id": _label_job_of,
    "batch_id": _label_batch_of,
    "pickup_id": _pickup_of,
    "protocol_id": _protocol_of,
    "channel_id": _channel_of,
    "order_id": _order_of,
    "status_id": _status_of,
    "membership_id": _membership_of,
    "invitation_id": _invitation_of,
}
