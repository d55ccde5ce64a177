"""Every page in Polish: a company with everything a seller meets (a connected Allegro account,
one that needs re-authorization, one not connected yet, orders in every Allegro state, paid
online and on delivery, shipments, status changes passed on to Allegro, a refused one, one
waiting for Allegro, an order Allegro cannot serve, a purchase merged by Allegro, an order
cancelled after it was shipped, a form with odd data, statuses, members and invitations), and a
walk over every page of the URL map, logged in and anonymous, in Polish.

The text a person reads on each page (not scripts and styles, not <code>/<kbd>, which are for
experts, and of the attributes only those a browser shows) must contain

(a) no English sentence of our catalogue (locale/pl/LC_MESSAGES/django.po): a msgid of at least
    two words whose Polish differs, with its placeholders matching anything;
(b) no raw Allegro code for which channels/allegro_names.py has a name (PROCESSING, FILLED_IN,
    CASH_ON_DELIVERY, PAYU, the environment "local", …). A title attribute may carry the code
    next to the name: it is for experts;
(c) no common English word (the, and, is, of, …): English that never reached the catalogue,
    such as an f-string or a stored message, is caught by none of the above.

A new URL pattern fails `test_every_page_is_walked_or_skipped_with_a_reason` until it is walked
here or skipped with a reason.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_scopes import scope, scopes_disabled

from api import urls as api_urls
from api.models import ApiKey, WebhookSubscription
from api.models_webhooks import DisabledReason
from api.webhooks import events as webhook_events
from api.webhooks import subscriptions as webhook_subscriptions
from catalog.models import ChannelCatalogState
from catalog.services import offers as catalog_offers
from channels import allegro_names
from channels.models import SalesChannel
from channels.services.channels import create_channel
from core import services as core_services
from core.models import Invitation, Membership, Role
from fulfillment.models import (
    CourierPickup,
    FulfillmentPush,
    HandoverProtocol,
    LabelBatch,
    LabelJob,
    LabelState,
    PickupState,
    ProtocolState,
    PushState,
)
from fulfillment.services.labels.accounts import save_courier_account
from fulfillment.services.labels.jobs import advance, create_label
from fulfillment.services.labels.proposals import Proposal, refresh_proposal
from fulfillment.services.push import process_order
from fulfillment.services.shipments import add_shipment
from notifications import customer_zone
from notifications.mailboxes import create_mailbox
from notifications.models import (
    Mailbox,
    MailKind,
    MailProblem,
    MailState,
    MessageTemplate,
    OutgoingMail,
    TemplateSet,
)
from notifications.outbox import queue_mail
from notifications.template_sets import seed_default_sets
from orders.changes import change_order_status
from orders.ingest import upsert_order_from_checkout_form
from orders.models import Order, OrderStatus, SystemStatus
from orders.queries import TAB_LABELS
from sync.backfill import request_reimport
from sync.models import ChannelSyncState
from sync.poll import poll_channel
from sync.runkit import record_bad_forms
from tests.factories import MembershipFactory, TenantFactory, UserFactory
from tests.labels.helpers import SENDER as LABEL_SENDER
from tests.sandbox_support import SandboxControl
from tests.support.connect import connect, register_sandbox_app
from tests.support.orders import checkout_form

pytestmark = pytest.mark.django_db

REPO = Path(__file__).resolve().parent.parent
CATALOGUE = REPO / "locale" / "pl" / "LC_MESSAGES" / "django.po"

CLIENT_ID = "apilo-polish-pages"
REDIRECT_URI = "http://testserver/channels/allegro/callback/"
SELLER, SELLER_PASSWORD = "sklep-polski", "polski-password-1"
SECOND_SELLER, SECOND_PASSWORD = "sklep-drugi", "drugi-password-1"


# --- What a person reads on a page -----------------------------------------------------------

# Element contents nobody reads as text (scripts, styles) or that are for experts (codes).
SKIPPED_ELEMENTS = {"script", "style", "code", "kbd"}
# Attributes a browser shows: tooltips, placeholders, what a screen reader says, image texts,
# the confirmation htmx asks, and the column labels orders.css shows in narrow tables.
SHOWN_ATTRIBUTES = {"title", "placeholder", "aria-label", "alt", "hx-confirm", "data-label"}
BUTTON_INPUTS = {"submit", "button", "reset"}


class _Reader(HTMLParser):
    def __init__(self, with_titles: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.with_titles = with_titles
        self.skipping = 0
        self.pieces: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in SKIPPED_ELEMENTS:
            self.skipping += 1
            return
        if self.skipping:
            return
        values = dict(attrs)
        for name, value in attrs:
            if not value:
                continue
            if name == "title" and not self.with_titles:
                continue
            if name in SHOWN_ATTRIBUTES or (
                name == "value" and tag == "input" and values.get("type") in BUTTON_INPUTS
            ):
                self.pieces.append(value)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in SKIPPED_ELEMENTS:
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_ELEMENTS and self.skipping:
            self.skipping -= 1

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.pieces.append(data)


def readable_text(html: str, *, with_titles: bool = True) -> str:
    """The page's text as a person reads it, whitespace collapsed, pieces apart by a space."""
    reader = _Reader(with_titles)
    reader.feed(html)
    reader.close()
    return re.sub(r"\s+", " ", " ".join(reader.pieces)).strip()


# --- (a) English sentences of our catalogue ----------------------------------------------------

_PLACEHOLDER = re.compile(r"%\(\w+\)[sdfi]|%[sd]|\{\{\s*\w+\s*\}\}")
_TOKEN = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*|\S")


def _po_entries(text: str) -> Iterator[dict[str, str]]:
    """Entries of a PO file as {"msgid", "msgid_plural", "msgstr", "msgstr[0]", …}."""
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        key = None
        for line in block.splitlines():
            if line.startswith("#"):
                continue
            match = re.match(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)\s+"(.*)"$', line)
            if match:
                key = match.group(1)
                fields[key] = match.group(2)
            elif line.startswith('"') and key:
                fields[key] += line[1:-1]
        if fields.get("msgid"):
            yield {k: v.replace('\\"', '"').replace("\\n", "\n") for k, v in fields.items()}


def _literal_pattern(literal: str) -> str:
    """A regex of a piece of English: its words in order, any whitespace between them (the
    page may break lines, or put a tag between a word and its full stop)."""
    parts: list[str] = []
    end = None
    for match in _TOKEN.finditer(literal):
        if end is not None:
            parts.append(r"\s+" if match.start() > end else r"\s*")
        parts.append(re.escape(match.group(0)))
        end = match.end()
    return "".join(parts)


@dataclass(frozen=True)
class EnglishSentence:
    msgid: str
    pattern: re.Pattern[str]
    words: tuple[str, ...]  # of its text, not of its placeholders

    @property
    def anchor(self) -> str:
        """The longest word: a page without it needs no regex search."""
        return max(self.words, key=len)


def _sentence(english: str) -> EnglishSentence | None:
    plain = re.sub(r"<[^>]+>", " ", english)  # a msgid with markup: its text
    literals = [literal.strip() for literal in _PLACEHOLDER.split(plain) if literal.strip()]
    words = [w for literal in literals for w in re.findall(r"[A-Za-z]{2,}", literal)]
    if len(words) < 2:
        return None
    # A placeholder stands for anything short.
    body = r".{0,120}?".join(_literal_pattern(literal) for literal in literals)
    start = r"(?<![^\W_])" if re.match(r"\w", literals[0]) else ""
    end = r"(?![^\W_])" if re.search(r"\w$", literals[-1]) else ""
    return EnglishSentence(english, re.compile(start + body + end), tuple(words))


def english_sentences() -> list[EnglishSentence]:
    """The catalogue's English (msgid and msgid_plural) whose Polish differs, of two words or
    more, at least one of them a word the Polish catalogue never uses ("Allegro status" reads
    the same in a Polish sentence: „zmieni w Allegro status na…”)."""
    entries = list(_po_entries(CATALOGUE.read_text(encoding="utf-8")))
    polish_words = {
        word.lower()
        for entry in entries
        for key, value in entry.items()
        if key.startswith("msgstr")
        for word in re.findall(r"[^\W\d_]+", value)
    }
    found: dict[str, EnglishSentence] = {}
    for entry in entries:
        polish = [v for k, v in entry.items() if k.startswith("msgstr")]
        for english in (entry["msgid"], entry.get("msgid_plural")):
            if not english or english in found or all(p == english for p in polish):
                continue
            sentence = _sentence(english)
            if sentence is not None and any(w.lower() not in polish_words for w in sentence.words):
                found[english] = sentence
    return list(found.values())


# --- (b) Allegro's codes -----------------------------------------------------------------------


def allegro_codes() -> list[str]:
    """Every code allegro_names has a name for: the upper-case enums, and the environments."""
    codes = {code for table in allegro_names.TABLES.values() for code in table}
    return sorted(c for c in codes if re.fullmatch(r"[A-Z][A-Z0-9_]*", c)) + sorted(
        allegro_names.ENVIRONMENTS
    )


def _code_pattern(codes: list[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(c) for c in sorted(codes, key=len, reverse=True))
    return re.compile(rf"(?<![\w.-])(?:{alternatives})(?![\w.-])")


# --- (c) English outside the catalogue -------------------------------------------------------

# Text that never went through the catalogue (an f-string, a stored English message) is not
# caught by (a). These words are common in any English sentence and are no Polish words.
ENGLISH_WORDS = re.compile(
    r"(?<![\w.-])(?:the|and|is|are|of|for|with|not|has|have|says|cannot|could|your|you|this|"
    r"that|will|missing|ignored|unknown|please)(?![\w.-])",
    re.IGNORECASE,
)


# --- The findings on one page ------------------------------------------------------------------


@dataclass
class Checker:
    sentences: list[EnglishSentence] = field(default_factory=english_sentences)
    codes: re.Pattern[str] = field(default_factory=lambda: _code_pattern(allegro_codes()))
    findings: list[str] = field(default_factory=list)
    pages: list[str] = field(default_factory=list)

    def check(self, page: str, html: str) -> None:
        self.pages.append(page)
        text = readable_text(html)
        for sentence in self.sentences:
            if sentence.anchor not in text:
                continue
            for match in sentence.pattern.finditer(text):
                self.findings.append(f"{page}: English “{match.group(0)}” ({sentence.msgid!r})")
        without_titles = readable_text(html, with_titles=False)
        for match in self.codes.finditer(without_titles):
            around = text_around(without_titles, match.start(), match.end())
            self.findings.append(f"{page}: Allegro code {match.group(0)} in “{around}”")
        # English words close together are one piece of English.
        pieces: list[list[int]] = []
        for match in ENGLISH_WORDS.finditer(text):
            if pieces and match.start() - pieces[-1][1] < 60:
                pieces[-1][1] = match.end()
            else:
                pieces.append([match.start(), match.end()])
        for start, end in pieces:
            self.findings.append(f"{page}: English in “{text_around(text, start, end)}”")


def text_around(text: str, start: int, end: int, width: int = 40) -> str:
    return text[max(0, start - width) : end + width]


def polish_client(user=None, **kwargs: Any) -> Client:
    """A browser that asks for Polish (Accept-Language and the language cookie), as the app
    chooses the language; the suite's default language is English."""
    client = Client(HTTP_ACCEPT_LANGUAGE="pl", **kwargs)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "pl"
    if user is not None:
        client.force_login(user)
    return client


def read(client: Client, url: str, checker: Checker, *, status: int = 200, **kw: Any) -> str:
    response = client.get(url, follow=True, **kw)
    assert response.status_code == status, (url, response.status_code)
    html = response.content.decode()
    assert '<html lang="pl">' in html or "<html" not in html, url
    checker.check(url, html)
    return html


@pytest.fixture(autouse=True)
def _language_reset():
    """A Polish request leaves Polish active in this thread: later tests expect the default."""
    yield
    translation.deactivate()


# --- The company ------------------------------------------------------------------------------


@dataclass
class Company:
    tenant: Any
    owner: Any
    staff: Any
    member: Membership
    channels: list[SalesChannel]
    orders: dict[str, Order]
    statuses: list[OrderStatus]
    invitation_token: str
    mailboxes: list[Mailbox]
    mails: list[OutgoingMail]
    courier_account: Any = None
    label_jobs: list[Any] = field(default_factory=list)
    label_batch: Any = None
    pickups: list[Any] = field(default_factory=list)
    products: list[Any] = field(default_factory=list)


def _status(tenant, code: str) -> OrderStatus:
    with scope(tenant=tenant):
        return OrderStatus.objects.get(tenant=tenant, system_code=code)


def _poll(channel: SalesChannel) -> None:
    with scope(tenant=channel.tenant):
        poll_channel(channel.pk)


def _send(order: Order) -> None:
    with scope(tenant=order.tenant):
        process_order(order.tenant_id, order.pk)


def _order(tenant, external_id: str) -> Order:
    with scope(tenant=tenant):
        return Order.objects.select_related("channel", "status", "tenant").get(
            external_id=external_id
        )


def _channel(tenant, alias: str, login: str, **extra: Any) -> SalesChannel:
    data = {
        "name": f"Allegro {login}",
        "alias": alias,
        "allegro_login": login,
        "allegro_environment": "local",
        "backfill_days": 0,
        "pass_shipment_info": True,
        "default_shipment_comment": "Paczka do {order.number}: {shipment.waybill}",
        **extra,
    }
    with scope(tenant=tenant):
        return create_channel(tenant=tenant, data=data)


@pytest.fixture
def company(allegro_sandbox: SandboxControl, settings) -> Company:
    sandbox = allegro_sandbox
    register_sandbox_app(settings, sandbox, client_id=CLIENT_ID, redirect_uri=REDIRECT_URI)
    settings.SYNC_GET_RETRIES = 0
    settings.FULFILLMENT_RETRY_BASE_SECONDS = 0.2
    settings.ALLEGRO_READ_TIMEOUT = 2.0
    sandbox.create_seller(SELLER, SELLER_PASSWORD, id="81000001", offers=5)
    sandbox.create_seller(SECOND_SELLER, SECOND_PASSWORD, id="81000002", offers=1)

    tenant = TenantFactory(name="Sklep Alfa", slug="alfa")
    owner = UserFactory(email="wlasciciel@alfa.example")
    MembershipFactory(tenant=tenant, user=owner, role=Role.ADMINISTRATOR)
    staff = UserFactory(email="magazyn@alfa.example")
    MembershipFactory(tenant=tenant, user=staff, role=Role.USER)
    member = MembershipFactory(tenant=tenant, role=Role.SHOP_MANAGER)
    MembershipFactory(tenant=tenant, role=Role.ACCOUNTANT)

    main = connect(_channel(tenant, "AL", SELLER), owner, SELLER_PASSWORD, SELLER)
    # Its offers, imported by the sweep its first authorization started.
    with scope(tenant=tenant):
        run = ChannelCatalogState.objects.get(channel=main).sweep_run
        while catalog_offers.sweep_page(main.pk, run).again:
            pass
    # A second account whose authorization Allegro withdrew; a third not authorized yet.
    second = connect(
        _channel(tenant, "DR", SECOND_SELLER, pass_shipment_info=False),
        owner,
        SECOND_PASSWORD,
        SECOND_SELLER,
    )
    sandbox.revoke_tokens(SECOND_SELLER)
    # Its administrators' mail is written in the deployment's language (the send log shows
    # its subject): a Polish deployment's.
    settings.LANGUAGE_CODE = "pl"
    _poll(second)
    settings.LANGUAGE_CODE = "en"
    _channel(tenant, "NK", "sklep-nowy")
    # The main account mails its buyers with the default Polish set (most of it held: Allegro
    # forbids the categories) and gives every order a customer zone page.
    seed_default_sets(tenant)
    with scope(tenant=tenant):
        SalesChannel.objects.filter(pk=main.pk).update(
            template_set=TemplateSet.objects.get(language="pl"), customer_zone=True
        )
        main.refresh_from_db()
    _poll(main)  # the journal's cursor starts now

    # Orders in every state Allegro has, paid online and on delivery.
    [online, shipped, cancelled_late, refused, waiting_push] = sandbox.create_orders(
        SELLER, 5, payment_type="ONLINE", lines=2
    )
    [on_delivery] = sandbox.create_orders(SELLER, 1, payment_type="CASH_ON_DELIVERY")
    [bought] = sandbox.create_orders(SELLER, 1, status="BOUGHT")
    [filled_in] = sandbox.create_orders(SELLER, 1, status="FILLED_IN")
    merged_parts = sandbox.create_orders(SELLER, 2)
    _poll(main)

    # Allegro merged two purchases into one; an order Allegro answers with an error.
    merged = sandbox.merge_orders(merged_parts)
    [stuck] = sandbox.create_orders(SELLER, 1)
    sandbox.call("PUT", f"/orders/{stuck}/unreadable", {"status": 500})
    _poll(main)

    in_progress = _status(tenant, SystemStatus.IN_PROGRESS)
    ready = _status(tenant, SystemStatus.READY_TO_SHIP)
    with scope(tenant=tenant):
        # A status change and a shipment passed on to Allegro.
        order = _order(tenant, shipped)
        change_order_status(order, in_progress, staff)
        _send(order)
        add_shipment(
            _order(tenant, shipped),
            carrier_id="INPOST",
            carrier_name="",
            waybill="620111222333",
            line_ids=None,
            comment="Paczka {order.number}",
            actor=staff,
            carriers=["INPOST", "DPD", "OTHER"],
        )
        _send(order)
        # Shipped, then cancelled by the buyer on Allegro: an alert.
        add_shipment(
            _order(tenant, cancelled_late),
            carrier_id="DPD",
            carrier_name="",
            waybill="DPD000111222",
            line_ids=None,
            comment="",
            actor=staff,
            carriers=["INPOST", "DPD", "OTHER"],
        )
        _send(_order(tenant, cancelled_late))
    sandbox.advance_order(cancelled_late, "BUYER_CANCELLED")
    _poll(main)

    with scope(tenant=tenant):
        # Allegro refuses one change for good and does not answer for another.
        sandbox.set_faults(
            seller=SELLER,
            error_5xx=1.0,
            error_status=422,
            path_prefix=f"/order/checkout-forms/{refused}/fulfillment",
        )
        change_order_status(_order(tenant, refused), ready, staff)
        _send(_order(tenant, refused))
        sandbox.clear_faults()
        sandbox.set_faults(
            seller=SELLER,
            error_5xx=1.0,
            path_prefix=f"/order/checkout-forms/{waiting_push}/fulfillment",
        )
        change_order_status(_order(tenant, waiting_push), in_progress, staff)
        _send(_order(tenant, waiting_push))
        sandbox.clear_faults()
        change_order_status(_order(tenant, on_delivery), in_progress, owner)
        _send(_order(tenant, on_delivery))

    # A form with odd data (a payment type Allegro added, no phone number): imported, flagged.
    odd = checkout_form(messageToSeller="Proszę o czerwony kolor")
    odd["lineItems"][0]["offer"]["name"] = "Kubek termiczny 450 ml"
    odd["payment"]["type"] = "INSTALMENTS"
    odd["buyer"]["phoneNumber"] = None
    odd["delivery"]["address"]["phoneNumber"] = None
    result = upsert_order_from_checkout_form(main, odd)
    assert result.ok, result.error
    # A form Allegro served without its id: not imported, listed on the channel page.
    without_id = upsert_order_from_checkout_form(main, {"status": "BOUGHT"})
    with scope(tenant=tenant):
        state = ChannelSyncState.objects.get(channel=main)
        record_bad_forms(state, [(str(uuid.uuid4()), without_id.error)])
        state.save(update_fields=["bad_forms", "bad_forms_total"])

    # Invitations are written in the inviter's language (the send log shows their subjects).
    with scope(tenant=tenant), translation.override("pl"):
        invitation = core_services.invite_member(
            tenant=tenant, email="nowy@alfa.example", role=Role.SALES_MANAGER, invited_by=owner
        )
        expired = core_services.invite_member(
            tenant=tenant, email="dawny@alfa.example", role=Role.USER, invited_by=owner
        )
        Invitation.objects.filter(pk=expired.pk).update(
            created_at=timezone.now() - dt.timedelta(seconds=settings.INVITATION_MAX_AGE + 60)
        )
        # Last week's orders being imported again.
        today = timezone.localdate()
        request_reimport(main, today - dt.timedelta(days=7), today)
        orders = {
            name: _order(tenant, external_id)
            for name, external_id in {
                "online": online,
                "shipped": shipped,
                "cancelled_late": cancelled_late,
                "refused": refused,
                "waiting_push": waiting_push,
                "on_delivery": on_delivery,
                "bought": bought,
                "filled_in": filled_in,
                "merged": merged,
                "merged_part": merged_parts[0],
                "odd": odd["id"],
            }.items()
        }
        statuses = list(OrderStatus.objects.filter(tenant=tenant).order_by("position"))
    with scopes_disabled():
        assert FulfillmentPush.objects.filter(state=PushState.FAILED).count() == 1
        assert FulfillmentPush.objects.filter(state=PushState.PENDING, attempts=1).count() == 1
        assert orders["cancelled_late"].needs_attention
        assert orders["merged_part"].merged_into_id == orders["merged"].pk
        assert orders["odd"].parse_warnings
    with scope(tenant=tenant):
        # A mailbox; a mail held back (to a buyer's relay address from an unregistered
        # sender), one waiting and one the server refused.
        mailbox = create_mailbox(
            tenant, name="Sklep", host="127.0.0.1", port=2525, security="starttls",
            username="sklep", from_name="Sklep Alfa", from_address="sklep@alfa.example",
            password="tajne",
        )  # fmt: skip
        mails = [
            queue_mail(
                tenant=tenant,
                to=to,
                subject=subject,
                text="Dzień dobry",
                mailbox=mailbox,
                order=orders["online"],
                kind=MailKind.CUSTOMER,
            )
            for to, subject in (
                ("kupujacy+1a@allegromail.pl", "Pytanie o zamówienie"),
                ("anna@example.com", "Dziękujemy"),
                ("bartek@example.com", "Faktura"),
            )
        ]
    with scopes_disabled():
        OutgoingMail.objects.filter(pk=mails[2].pk).update(
            state=MailState.FAILED, attempts=1, reply_code=550,
            reply_text="5.7.1 Message rejected as spam", problem=MailProblem.PERMANENT,
        )  # fmt: skip
        mails = list(OutgoingMail.objects.filter(pk__in=[m.pk for m in mails]).order_by("pk"))
    assert [m.state for m in mails] == [MailState.HELD, MailState.QUEUED, MailState.FAILED]
    # Labels through Wysyłam z Allegro: a courier account, a label made, one Allegro refused
    # with its opaque words (no receiver e-mail), and a batch.
    sandbox.wza(command_seconds=0)
    with scope(tenant=tenant):
        account = save_courier_account(tenant, {**LABEL_SENDER, "channel": main})
        made = _make_label(orders["online"], account, owner)
        refused_label = create_label(
            orders["shipped"], account, parcels=None, actor=owner, proposal=Proposal()
        )
        for _ in range(5):
            advance(tenant.pk, refused_label.pk)
        batch = LabelBatch.objects.create(tenant=tenant, courier_account=account)
        LabelJob.objects.filter(pk=made.pk).update(batch=batch)
        assert {j.state for j in LabelJob.objects.all()} == {LabelState.READY, LabelState.ERROR}
        # courier pickups of the made label: one to choose a time for, one ordered, one refused
        slot = {"date": "2026-12-04", "minTime": "10:00", "maxTime": "16:00"}
        pickups = [
            CourierPickup.objects.create(
                tenant=tenant,
                courier_account=account,
                job_ids=[made.pk],
                wza_shipment_ids=[made.wza_shipment_id],
                slots=[slot],
                **fields,
            )
            for fields in (
                {"state": PickupState.CHOOSING},
                {"state": PickupState.ORDERED, "pickup_time": slot, "carrier_pickup_id": "P123"},
                {
                    "state": PickupState.ERROR,
                    "errors": [{"userMessage": "Nie można zamówić odbioru", "path": "input"}],
                },
            )
        ]
        # handover protocols of a day: one in each state
        for fields in (
            {"state": ProtocolState.PENDING},
            {"state": ProtocolState.READY, "file": f"{tenant.pk}/protocols/protocol-x.pdf"},
            {"state": ProtocolState.NONE},
            {
                "state": ProtocolState.ERROR,
                "errors": [{"userMessage": "Nie znaleziono przesyłki", "path": "shipmentIds"}],
            },
        ):
            HandoverProtocol.objects.create(
                tenant=tenant,
                courier_account=account,
                day=made.finished_at.date(),
                wza_shipment_ids=[made.wza_shipment_id],
                **fields,
            )
    products = _catalogue(tenant, main, orders["online"])
    with scopes_disabled():
        channels = list(SalesChannel.objects.filter(tenant=tenant).order_by("pk"))
    assert [c.connection_state for c in channels] == ["connected", "needs_reauth", "not_connected"]
    return Company(
        tenant=tenant,
        owner=owner,
        staff=staff,
        member=member,
        channels=channels,
        orders=orders,
        statuses=statuses,
        invitation_token=core_services.invitation_token(invitation),
        mailboxes=[mailbox],
        mails=mails,
        courier_account=account,
        label_jobs=[made, refused_label],
        label_batch=batch,
        pickups=pickups,
        products=products,
    )


def _catalogue(tenant: Any, channel: SalesChannel, order: Order) -> list[Any]:
    """Products: one sold by an offer of the order (linked by SKU, so the order page shows
    it), two sharing an EAN, and offers left for the linking screen (a suggestion by name, an
    ambiguous EAN)."""
    from catalog.models import Offer
    from catalog.services.linking import link_offers
    from catalog.services.products import ProductData, create_product

    with scope(tenant=tenant):
        line = order.lines.order_by("pk").first()
        made = [
            create_product(
                tenant, ProductData(name="Kubek ceramiczny", sku="KUB-1"), initial_stock=3
            ),
            create_product(tenant, ProductData(name="Miska A", ean="96385074")),
            create_product(tenant, ProductData(name="Miska B", ean="000096385074")),
        ]
        # The order's own offer may be there already (the channel's offers were imported).
        offers = [
            Offer.objects.update_or_create(
                tenant=tenant,
                channel=channel,
                external_id=external_id,
                defaults={
                    "name": name,
                    "sku": sku,
                    "ean": ean,
                    "url": f"https://allegro.example/oferta/{external_id}",
                },
            )[0]
            for external_id, name, sku, ean in (
                (line.offer_id, "Kubek ceramiczny 300 ml", "KUB-1", ""),
                ("90000001", "Kubek ceramiczny czarny", "", ""),
                ("90000002", "Miska", "", "96385074"),
            )
        ]
        link_offers(tenant.pk, [o.pk for o in offers])
    return made


def _make_label(order: Order, account: Any, actor: Any) -> Any:
    refresh_proposal(Order.objects.select_related("channel").get(pk=order.pk))
    job = create_label(order, account, parcels=None, actor=actor)
    for _ in range(5):
        advance(order.tenant_id, job.pk)
    return LabelJob.objects.get(pk=job.pk)


# --- The URL map ------------------------------------------------------------------------------


def route_names(resolver: URLResolver | None = None, namespaces: tuple[str, ...] = ()):
    """Full names of every URL pattern of our apps (Django's admin is for operators)."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            if getattr(entry, "app_name", None) == "admin":
                continue
            ns = (*namespaces, entry.namespace) if entry.namespace else namespaces
            yield from route_names(entry, ns)
        elif isinstance(entry, URLPattern):
            assert entry.name, f"URL {entry.pattern} has no name"
            yield ":".join((*namespaces, entry.name))


POST_ONLY = "a form's action (POST only); the page it leads back to is walked"
SKIPPED = {
    "healthz": "JSON for monitoring, not a page",
    "set_language": "the language switch (POST); answers with a redirect",
    "logout": POST_ONLY,
    "orders:bulk_status": POST_ONLY,
    "orders:change_status": POST_ONLY,
    "orders:resolve_alert": POST_ONLY,
    "fulfillment:retry_push": POST_ONLY,
    "administration:channels:authorize": POST_ONLY + " (it leads to Allegro)",
    "administration:channels:deactivate": POST_ONLY,
    "administration:channels:activate": POST_ONLY,
    "administration:channels:delete": POST_ONLY,
    "administration:channels:reimport": POST_ONLY,
    "catalog:offers_import": POST_ONLY,
    "administration:statuses:delete": POST_ONLY,
    "administration:statuses:deactivate": POST_ONLY,
    "administration:statuses:activate": POST_ONLY,
    "administration:statuses:move": POST_ONLY,
    "administration:users:change_role": POST_ONLY,
    "administration:users:revoke_invitation": POST_ONLY,
    "administration:fulfillment:retry_failed": POST_ONLY,
    "administration:fulfillment:retry": POST_ONLY,
    "administration:templates:set_copy": POST_ONLY,
    "administration:templates:set_delete": POST_ONLY,
    "administration:templates:template_delete": POST_ONLY,
    "administration:templates:channel_categories": POST_ONLY,
    "administration:templates:preview": "the editor's live preview (htmx POST); the editor is"
    " walked",
    "administration:templates:send_test": POST_ONLY,
    "administration:mailboxes:test": POST_ONLY + " (it sends mail)",
    "administration:channels:register_sender": POST_ONLY + " (it leads to Allegro)",
    "administration:channels:refresh_senders": POST_ONLY + " (it leads to Allegro)",
    "administration:fulfillment:courier_delete": POST_ONLY,
    "fulfillment:label_proposal": POST_ONLY,
    "fulfillment:label_cancel": POST_ONLY,
    "fulfillment:label_retry": POST_ONLY,
    "fulfillment:bulk_labels": POST_ONLY + " (its account choice is walked below)",
    "fulfillment:label_file": "a label file (PDF or ZPL), not a page",
    "fulfillment:batch_file": "a label file (PDF or ZPL), not a page",
    "fulfillment:batch_protocol": POST_ONLY,
    "fulfillment:batch_protocol_file": "a protocol file (PDF), not a page",
    "fulfillment:pickup_order": POST_ONLY,
    "fulfillment:day_protocol_file": "a protocol file (PDF), not a page",
    "administration:api_keys:revoke": POST_ONLY,
    "catalog:product_stock_change": POST_ONLY + " (its form is walked on the stock page)",
    "catalog:stock_push_switch": POST_ONLY,
    "catalog:product_delete": POST_ONLY,
    "catalog:products_bulk_delete": POST_ONLY,
    "catalog:link_offers": POST_ONLY,
    "catalog:unlink_offers": POST_ONLY,
    "catalog:products_from_offers": POST_ONLY,
    "administration:webhooks:set_active": POST_ONLY,
    "administration:webhooks:send_test": POST_ONLY,
    **{
        f"api:{name}": "the REST API and its documentation: JSON and English for integrators"
        for name in (p.name for p in api_urls.urlpatterns if p.name not in {"docs", "redoc"})
    },
    "api_root": "the REST API's JSON 404 for unknown paths",
    "api_unknown": "the REST API's JSON 404 for unknown paths",
    "api:docs": "Swagger UI, drawn by its own script in English",
    "api:redoc": "Redoc, drawn by its own script in English",
}


def _webhook_urls(name: str, company: Company) -> list[str]:
    """A page of the company's webhook (one turned off after failures, with a test event)."""
    tenant = company.tenant
    with scope(tenant=tenant):
        subscription = WebhookSubscription.objects.filter(tenant=tenant).first()
        if subscription is None:
            subscription = webhook_subscriptions.create_subscription(
                tenant,
                url="http://127.0.0.1:9/apilo",
                events=["order.created", "order.cancelled"],
                created_by=company.owner,
            ).subscription
            webhook_events.send_test(subscription)
            webhook_subscriptions.disable(subscription, DisabledReason.FAILURES)
    if name == "list":
        return [reverse("administration:webhooks:list", args=[tenant.slug])]
    return [reverse(f"administration:webhooks:{name}", args=[tenant.slug, subscription.pk])]


def _tenant_urls(name: str, company: Company, per: str | None = None) -> list[str]:
    slug = company.tenant.slug
    if per is None:
        return [reverse(name, kwargs={"tenant_slug": slug})]
    objects = {
        "order_id": list(company.orders.values()),
        "channel_id": company.channels,
        "status_id": company.statuses,
        "mailbox_id": company.mailboxes,
        "mail_id": company.mails,
        "product_id": company.products,
    }[per]
    return [reverse(name, kwargs={"tenant_slug": slug, per: obj.pk}) for obj in objects]


def _list_urls(company: Company) -> list[str]:
    base = reverse("orders:list", args=[company.tenant.slug])
    return [
        base,
        *(f"{base}?tab={tab.value}" for tab in TAB_LABELS),
        f"{base}?tab=all&q=nie-ma-takiego",
        # Filters a person typed wrong: the form says so.
        f"{base}?tab=all&bought_from=wczoraj&status=999999",
    ]


def _sets(company: Company) -> list[TemplateSet]:
    with scope(tenant=company.tenant):
        # The Polish set: the English one's texts are the tenant's data, in English on purpose.
        return list(TemplateSet.objects.filter(language="pl").order_by("pk"))


def _template_urls(company: Company) -> list[str]:
    with scope(tenant=company.tenant):
        templates = list(MessageTemplate.objects.filter(template_set__language="pl").order_by("pk"))
    slug = company.tenant.slug
    return [
        reverse("administration:templates:template", args=[slug, t.template_set_id, t.pk])
        for t in templates
    ]


def _zone_urls(company: Company) -> list[Any]:
    order = next(o for o in company.orders.values() if o.channel.customer_zone)
    with scope(tenant=company.tenant):
        url = customer_zone.url_for(order)
    path = url[url.index("/o/") :]
    return [path, f"{path}?lang=pl", (reverse("customer_zone", args=["x" * 43]), 404)]


# Pages of the company's owner: URL name → the addresses walked.
OWNER_PAGES: dict[str, Callable[[Company], list[str]]] = {
    "home": lambda c: [reverse("home")],
    # Allegro sends the browser back without a valid state: the error is said on the page.
    "allegro_callback": lambda c: [reverse("allegro_callback") + "?code=x&state=y"],
    "tenant_home": lambda c: _tenant_urls("tenant_home", c),
    "orders:list": _list_urls,
    "orders:rows": lambda c: _tenant_urls("orders:rows", c),
    "orders:dashboard": lambda c: _tenant_urls("orders:dashboard", c),
    "orders:detail": lambda c: _tenant_urls("orders:detail", c, "order_id"),
    "fulfillment:add_shipment": lambda c: _tenant_urls("fulfillment:add_shipment", c, "order_id"),
    "administration:channels:list": lambda c: _tenant_urls("administration:channels:list", c),
    "administration:channels:create": lambda c: _tenant_urls("administration:channels:create", c),
    "administration:channels:detail": lambda c: _tenant_urls(
        "administration:channels:detail", c, "channel_id"
    ),
    "administration:channels:edit": lambda c: _tenant_urls(
        "administration:channels:edit", c, "channel_id"
    ),
    "administration:channels:sync_health": lambda c: _tenant_urls(
        "administration:channels:sync_health", c, "channel_id"
    ),
    "administration:channels:backfill_progress": lambda c: _tenant_urls(
        "administration:channels:backfill_progress", c, "channel_id"
    ),
    "catalog:offers": lambda c: [
        *_tenant_urls("catalog:offers", c),
        reverse("catalog:offers", args=[c.tenant.slug]) + "?q=nie-ma-takiej&removed=on",
    ],
    "catalog:offers_progress": lambda c: _tenant_urls("catalog:offers_progress", c, "channel_id"),
    "administration:statuses:list": lambda c: _tenant_urls("administration:statuses:list", c),
    "administration:statuses:create": lambda c: _tenant_urls("administration:statuses:create", c),
    "administration:statuses:edit": lambda c: _tenant_urls(
        "administration:statuses:edit", c, "status_id"
    ),
    "administration:users:list": lambda c: _tenant_urls("administration:users:list", c),
    "administration:users:invite": lambda c: _tenant_urls("administration:users:invite", c),
    "administration:api_keys:list": lambda c: _tenant_urls("administration:api_keys:list", c),
    "administration:api_keys:create": lambda c: _tenant_urls("administration:api_keys:create", c),
    "administration:webhooks:list": lambda c: _webhook_urls("list", c),
    "administration:webhooks:create": lambda c: _tenant_urls("administration:webhooks:create", c),
    "administration:webhooks:edit": lambda c: _webhook_urls("edit", c),
    "administration:webhooks:deliveries": lambda c: _webhook_urls("deliveries", c),
    "administration:webhooks:delete": lambda c: _webhook_urls("delete", c),
    "administration:users:remove": lambda c: [
        reverse("administration:users:remove", args=[c.tenant.slug, c.member.pk]),
        reverse(
            "administration:users:remove",
            args=[c.tenant.slug, Membership.objects.get(tenant=c.tenant, user=c.owner).pk],
        ),
    ],
    "administration:fulfillment:settings": lambda c: _tenant_urls(
        "administration:fulfillment:settings", c, "channel_id"
    ),
    "administration:fulfillment:pushes": lambda c: _tenant_urls(
        "administration:fulfillment:pushes", c, "channel_id"
    ),
    "administration:templates:list": lambda c: _tenant_urls("administration:templates:list", c),
    "administration:templates:set_create": lambda c: _tenant_urls(
        "administration:templates:set_create", c
    ),
    "administration:templates:set": lambda c: [
        reverse("administration:templates:set", args=[c.tenant.slug, s.pk]) for s in _sets(c)
    ],
    "administration:templates:template_create": lambda c: [
        reverse("administration:templates:template_create", args=[c.tenant.slug, s.pk])
        for s in _sets(c)
    ],
    "administration:templates:template": _template_urls,
    "administration:mailboxes:list": lambda c: _tenant_urls("administration:mailboxes:list", c),
    "administration:mailboxes:create": lambda c: _tenant_urls("administration:mailboxes:create", c),
    "administration:mailboxes:edit": lambda c: _tenant_urls(
        "administration:mailboxes:edit", c, "mailbox_id"
    ),
    "administration:mailboxes:delete": lambda c: _tenant_urls(
        "administration:mailboxes:delete", c, "mailbox_id"
    ),
    "administration:mail_log:list": lambda c: [
        *_tenant_urls("administration:mail_log:list", c),
        reverse("administration:mail_log:list", args=[c.tenant.slug]) + "?state=failed",
        reverse("administration:mail_log:list", args=[c.tenant.slug]) + "?to=nikt",
    ],
    "administration:mail_log:detail": lambda c: _tenant_urls(
        "administration:mail_log:detail", c, "mail_id"
    ),
    "administration:fulfillment:couriers": lambda c: _tenant_urls(
        "administration:fulfillment:couriers", c
    ),
    "administration:fulfillment:courier_add": lambda c: _tenant_urls(
        "administration:fulfillment:courier_add", c
    ),
    "administration:fulfillment:courier_edit": lambda c: [
        reverse(
            "administration:fulfillment:courier_edit", args=[c.tenant.slug, c.courier_account.pk]
        )
    ],
    "fulfillment:label": lambda c: _tenant_urls("fulfillment:label", c, "order_id"),
    "fulfillment:label_panel": lambda c: _tenant_urls("fulfillment:label_panel", c, "order_id"),
    "fulfillment:label_batch": lambda c: [
        reverse("fulfillment:label_batch", args=[c.tenant.slug, c.label_batch.pk])
    ],
    "fulfillment:new_pickup": lambda c: _tenant_urls("fulfillment:new_pickup", c),
    "fulfillment:day_protocols": lambda c: _tenant_urls("fulfillment:day_protocols", c),
    "catalog:products": lambda c: [
        *_tenant_urls("catalog:products", c),
        reverse("catalog:products", args=[c.tenant.slug]) + "?q=nie-ma-takiego&linked=no",
    ],
    "catalog:product_create": lambda c: _tenant_urls("catalog:product_create", c),
    "catalog:product": lambda c: _tenant_urls("catalog:product", c, "product_id"),
    "catalog:product_edit": lambda c: _tenant_urls("catalog:product_edit", c, "product_id"),
    "catalog:linking": lambda c: [
        *_tenant_urls("catalog:linking", c),
        reverse("catalog:linking", args=[c.tenant.slug]) + "?show=linked",
        reverse("catalog:linking", args=[c.tenant.slug]) + "?q=nie-ma-takiego",
    ],
    "fulfillment:pickup": lambda c: [
        reverse("fulfillment:pickup", args=[c.tenant.slug, p.pk]) for p in c.pickups
    ],
}


def _reset_urls(company: Company) -> list[str]:
    uid = urlsafe_base64_encode(force_bytes(company.staff.pk))
    token = default_token_generator.make_token(company.staff)
    return [
        reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token}),
        reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": "zly-link"}),
    ]


def _stock_urls(company: Company) -> list[str]:
    """A product with changes of every kind and pushes in every state on the first channel."""
    from tests.catalog.helpers_stock import stock_page_product

    product = stock_page_product(company.tenant, company.channels[0], company.owner)
    return [reverse("catalog:product_stock", args=[company.tenant.slug, product.pk])]


OWNER_PAGES["catalog:product_stock"] = _stock_urls


# Pages anyone can open.
ANONYMOUS_PAGES: dict[str, Callable[[Company], list[str]]] = {
    "login": lambda c: [reverse("login")],
    "signup": lambda c: [reverse("signup")],
    "password_reset": lambda c: [reverse("password_reset")],
    "password_reset_done": lambda c: [reverse("password_reset_done")],
    "password_reset_confirm": _reset_urls,
    "password_reset_complete": lambda c: [reverse("password_reset_complete")],
    "customer_zone": _zone_urls,
    "accept_invitation": lambda c: [
        reverse("accept_invitation", args=[c.invitation_token]),
        (reverse("accept_invitation", args=["zly-link"]), 400),
    ],
}


def test_every_page_is_walked_or_skipped_with_a_reason():
    names = set(route_names())
    walked = set(OWNER_PAGES) | set(ANONYMOUS_PAGES)
    assert sorted(names - walked - set(SKIPPED)) == [], "walk these pages or skip them here"
    assert sorted((walked | set(SKIPPED)) - names) == [], "no such URL name any more"
    assert sorted(walked & set(SKIPPED)) == []
    assert all(reason for reason in SKIPPED.values())


def test_every_page_reads_in_polish(company):
    checker = Checker()
    owner = polish_client(company.owner)
    for urls in OWNER_PAGES.values():
        for url in urls(company):
            read(owner, url, checker)

    # Forms sent with mistakes: the errors are Polish too.
    slug = company.tenant.slug
    order = company.orders["online"]
    for url in (
        reverse("administration:channels:create", args=[slug]),
        reverse("administration:statuses:create", args=[slug]),
        reverse("administration:users:invite", args=[slug]),
        reverse("fulfillment:add_shipment", args=[slug, order.pk]),
        reverse("administration:fulfillment:courier_add", args=[slug]),
        reverse("catalog:product_create", args=[slug]),
        reverse("administration:webhooks:create", args=[slug]),
    ):
        response = owner.post(url, {"waybill": " ", "carrier_id": "NIE_MA", "alias": "x"})
        assert response.status_code in (200, 400), url
        checker.check(f"POST {url}", response.content.decode())

    anonymous = polish_client()
    for urls in ANONYMOUS_PAGES.values():
        for url in urls(company):
            url, status = url if isinstance(url, tuple) else (url, 200)
            read(anonymous, url, checker, status=status)
    # The order list's bulk labels: choosing the courier account.
    response = owner.post(
        reverse("fulfillment:bulk_labels", args=[slug]), {"order_ids": [order.pk]}
    )
    checker.check("POST bulk labels", response.content.decode())
    # A new API key: the page that shows it once, then the list with it, revoked.
    response = owner.post(
        reverse("administration:api_keys:create", args=[slug]),
        {"name": "ERP", "scope": "read", "rate_limit": 150},
    )
    checker.check("POST new API key", response.content.decode())
    with scope(tenant=company.tenant):
        api_key = ApiKey.objects.get(tenant=company.tenant, name="ERP")
    owner.post(reverse("administration:api_keys:revoke", args=[slug, api_key.pk]))
    read(owner, reverse("administration:api_keys:list", args=[slug]), checker)
    # A new webhook: the page that shows its secret once; an address that is refused.
    response = owner.post(
        reverse("administration:webhooks:create", args=[slug]),
        {"url": "http://127.0.0.1:9/nowy", "events": ["order.created"]},
    )
    checker.check("POST new webhook", response.content.decode())
    response = owner.post(
        reverse("administration:webhooks:create", args=[slug]),
        {"url": "ftp://127.0.0.1/", "events": ["order.created"]},
    )
    checker.check("POST refused webhook", response.content.decode())
    response = anonymous.post(reverse("login"), {"username": "nikt@x.example", "password": "x"})
    checker.check("POST login", response.content.decode())
    response = anonymous.post(reverse("signup"), {"email": "zly"})
    checker.check("POST signup", response.content.decode())

    # Error pages: a missing page, Administracja for a non-administrator, an expired form, and
    # a user who belongs to no company yet.
    read(anonymous, "/nie-ma-takiej-strony/", checker, status=404)
    staff = polish_client(company.staff)
    read(staff, f"/app/{slug}/orders/999999/", checker, status=404)
    read(staff, reverse("administration:statuses:list", args=[slug]), checker, status=403)
    csrf = polish_client(company.staff, enforce_csrf_checks=True)
    response = csrf.post(reverse("orders:change_status", args=[slug, order.pk]), {})
    assert response.status_code == 403
    checker.check("POST without CSRF token", response.content.decode())
    read(polish_client(UserFactory(email="bez-firmy@x.example")), reverse("home"), checker)
    # A staff member's view of the order and the banner of the channel needing authorization.
    read(staff, reverse("orders:detail", args=[slug, order.pk]), checker)
    read(staff, reverse("orders:dashboard", args=[slug]), checker)

    assert len(checker.pages) > 60
    assert checker.findings == [], "\n".join(
        ["English or Allegro codes on Polish pages:", *checker.findings]
    )


def test_the_check_finds_english_and_codes_only_where_people_read_them():
    html = """<html lang="pl"><head><title>Zamówienie · apilo</title><style>p{}</style>
    <script>var kind = "CASH_ON_DELIVERY"; var t = "Order placed";</script></head><body>
    <p>Status realizacji <span title="PROCESSING">W realizacji</span>, kod <code>SENT</code>
    i <kbd>the shipment</kbd>.</p>
    <p>Fulfillment status “READY_FOR_SHIPMENT”</p>
    <input type="submit" value="Mark as handled"><input type="hidden" name="f" value="PAYU">
    <img alt="Cancelled by the buyer"><p>Środowisko: local</p>
    <p>payment.type has an unknown value “X”.</p></body></html>"""
    assert readable_text(html) == (
        "Zamówienie · apilo Status realizacji PROCESSING W realizacji , kod i . Fulfillment "
        "status “READY_FOR_SHIPMENT” Mark as handled Cancelled by the buyer Środowisko: local "
        "payment.type has an unknown value “X”."
    )
    checker = Checker()
    checker.check("strona", html)
    assert checker.findings == [
        "strona: English “Cancelled by the buyer” ('Cancelled by the buyer')",
        "strona: English “Fulfillment status” ('Fulfillment status')",
        "strona: English “has an unknown value “X”.” "
        "('%(path)s has an unknown value “%(value)s”.')",
        "strona: English “Fulfillment status “READY_FOR_SHIPMENT”” "
        "('Fulfillment status “%(status)s”')",
        "strona: English “Mark as handled” ('Mark as handled')",
        "strona: Allegro code READY_FOR_SHIPMENT in “ealizacji , kod i . Fulfillment status "
        "“READY_FOR_SHIPMENT” Mark as handled Cancelled by the buyer”",
        "strona: Allegro code local in “dled Cancelled by the buyer Środowisko: local "
        "payment.type has an unknown value “X”.”",
        "strona: English in “_SHIPMENT” Mark as handled Cancelled by the buyer Środowisko: local "
        "payment.type has an unknown value “X”.”",
    ]
