"""Administracja → Skrzynki pocztowe and Wysłane wiadomości: administrators only, the password
never rendered back, the test's server answer in words, the log's filters, another tenant's
rows answering 404."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection, transaction
from django.urls import reverse
from django_scopes import scope, scopes_disabled

from core.fields import PREFIX
from notifications.models import Mailbox, OutgoingMail
from notifications.outbox import queue_mail
from tests.notifications.helpers import drain

pytestmark = pytest.mark.django_db(transaction=True)

BOXES = "/app/alfa/administration/mailboxes/"
LOG = "/app/alfa/administration/sent-mail/"


def words(response) -> str:
    """The page's text as a reader sees it (no tags, one space between words)."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode())).split())


def test_adding_a_mailbox_stores_the_password_encrypted_and_never_shows_it(
    admin_client, tenant, smtp_faulty
):
    server = smtp_faulty("healthy")
    response = admin_client.post(
        BOXES + "new/",
        {
            "name": "Sklep",
            "from_name": "Sklep Alfa",
            "from_address": "sklep@alfa.example",
            "host": server.host,
            "port": server.port,
            "security": "none",
            "username": "sklep",
            "password": "bardzo-tajne-haslo",
        },
    )
    with scope(tenant=tenant):
        box = Mailbox.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{BOXES}{box.pk}/"
    assert box.password == "bardzo-tajne-haslo"
    with connection.cursor() as cursor:
        cursor.execute("SELECT password FROM notifications_mailbox WHERE id = %s", [box.pk])
        [stored] = cursor.fetchone()
    assert stored.startswith(PREFIX) and "bardzo-tajne-haslo" not in stored
    page = admin_client.get(f"{BOXES}{box.pk}/")
    assert b"bardzo-tajne-haslo" not in page.content
    assert "Leave empty to keep the saved password (it is never shown)." in words(page)
    # Saving without a password keeps the stored one.
    admin_client.post(
        f"{BOXES}{box.pk}/",
        {"name": "Sklep 2", "from_name": "", "from_address": "sklep@alfa.example",
         "host": server.host, "port": server.port, "security": "none", "username": "sklep",
         "password": ""},
    )  # fmt: skip
    box.refresh_from_db()
    assert (box.name, box.password) == ("Sklep 2", "bardzo-tajne-haslo")


def test_send_test_shows_the_servers_answer(admin_client, mailbox_at, smtp_faulty):
    server = smtp_faulty("5xx", faults=1)
    box = mailbox_at(server)
    page = admin_client.post(f"{BOXES}{box.pk}/test/", {"to": "anna@example.com"})
    assert page.status_code == 200
    assert (
        "Failed: The server refused the message. The server said: 550 5.7.1 Message rejected "
        "as spam"
    ) in words(page)
    page = admin_client.post(f"{BOXES}{box.pk}/test/", {"to": "anna@example.com"})
    assert "Sent: Accepted by the server: 250 2.0.0 Ok: queued as X42" in words(page)
    [received] = server.handler.wait_for(1)
    assert received.subject == "Test e-mail from apilo (Sklep)"
    assert received.to == ["anna@example.com"]


def test_the_log_filters_by_state_mailbox_and_recipient(
    admin_client, tenant, mailbox_at, smtp_faulty, outbox_settings
):
    good = mailbox_at(smtp_faulty("healthy"), name="Dobra")
    bad = mailbox_at(smtp_faulty("5xx", faults=10), name="Zła", from_address="zla@alfa.example")
    with scope(tenant=tenant), transaction.atomic():
        for box, to in ((good, "anna@example.com"), (bad, "bartek@example.com")):
            queue_mail(tenant=tenant, to=to, subject=f"Do {to}", text="t", mailbox=box,
                       kind="customer")  # fmt: skip
    drain()
    everything = admin_client.get(LOG)
    assert everything.status_code == 200
    assert [r["mail"].to_address for r in everything.context["rows"]] == [
        "bartek@example.com", "anna@example.com"
    ]  # fmt: skip
    failed = admin_client.get(LOG, {"state": "failed"})
    assert [r["mail"].to_address for r in failed.context["rows"]] == ["bartek@example.com"]
    assert (
        "The server refused the message. The server said: 550 5.7.1 Message rejected as spam"
    ) in words(failed)
    by_box = admin_client.get(LOG, {"mailbox": str(good.pk)})
    assert [r["mail"].to_address for r in by_box.context["rows"]] == ["anna@example.com"]
    by_to = admin_client.get(LOG, {"to": "BARTEK"})
    assert [r["mail"].to_address for r in by_to.context["rows"]] == ["bartek@example.com"]
    assert admin_client.get(LOG, {"order": "AL2612000001"}).context["rows"] == []


def test_the_log_pages_by_id(admin_client, tenant, mailbox_at, smtp_faulty, settings):
    box = mailbox_at(smtp_faulty("healthy"))
    with scope(tenant=tenant), transaction.atomic():
        for i in range(55):
            queue_mail(tenant=tenant, to=f"k{i}@example.com", subject="s", text="t",
                       mailbox=box, kind="customer")  # fmt: skip
    first = admin_client.get(LOG)
    assert len(first.context["rows"]) == 50
    older = admin_client.get(LOG, {"before": first.context["next_before"]})
    assert [r["mail"].to_address for r in older.context["rows"]] == [
        f"k{i}@example.com" for i in range(4, -1, -1)
    ]
    assert older.context["next_before"] is None


def test_staff_get_403_and_another_tenants_rows_404(
    client, admin_client, staff_user, tenant, other_tenant, other_admin, smtp_faulty
):
    server = smtp_faulty("healthy")
    with scope(tenant=other_tenant):
        theirs = Mailbox(tenant=other_tenant, name="Beta", host=server.host, port=server.port,
                         security="none", from_address="beta@beta.example")  # fmt: skip
        theirs.save()
        with transaction.atomic():
            their_mail = queue_mail(tenant=other_tenant, to="x@example.com", subject="Beta",
                                    text="t", mailbox=theirs, kind="customer")  # fmt: skip
    for path in (
        f"{BOXES}{theirs.pk}/", f"{BOXES}{theirs.pk}/delete/", f"{LOG}{their_mail.pk}/"
    ):  # fmt: skip
        assert admin_client.get(path).status_code == 404, path
    assert (
        admin_client.post(f"{BOXES}{theirs.pk}/test/", {"to": "a@example.com"}).status_code == 404
    )
    assert admin_client.post(f"{BOXES}{theirs.pk}/delete/").status_code == 404
    assert admin_client.get(LOG).context["rows"] == []
    assert "Beta" not in words(admin_client.get(LOG))
    with scopes_disabled():
        assert Mailbox.objects.filter(pk=theirs.pk).exists()
        assert OutgoingMail.objects.get(pk=their_mail.pk).attempts == 0
    client.force_login(staff_user)
    for path in (BOXES, BOXES + "new/", LOG):
        assert client.get(path).status_code == 403, path


def test_platform_mail_shows_in_no_companys_log(admin_client, tenant, smtp_server, client):
    # A password reset: a mail of the person, not of a company.
    client.post(reverse("password_reset"), {"email": "admin@alfa.example"})
    with scopes_disabled():
        assert OutgoingMail.objects.filter(tenant__isnull=True).count() == 1
    assert admin_client.get(LOG).context["rows"] == []
