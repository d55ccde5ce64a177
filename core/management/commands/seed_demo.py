"""Create the demo tenant and its administrator (password generated and printed once)."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from core.models import Tenant
from core.services import create_tenant

DEMO_SLUG = "demo"
DEMO_EMAIL = "admin@demo.apilo.localhost"


class Command(BaseCommand):
    help = "Create the demo company and its administrator; prints the password once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset-password", action="store_true", help="Generate and print a new password."
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        user_model = get_user_model()
        user = user_model.objects.filter(email=DEMO_EMAIL).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(12)
            user = user_model.objects.create_user(
                username=DEMO_EMAIL, email=DEMO_EMAIL, password=password
            )
        elif options["reset_password"]:
            password = secrets.token_urlsafe(12)
            user.set_password(password)
            user.save(update_fields=["password"])
        if not Tenant.objects.filter(slug=DEMO_SLUG).exists():
            create_tenant(name="Demo sklep", slug=DEMO_SLUG, owner=user)
        if password:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Demo company ready. Log in as {DEMO_EMAIL} with password: {password}\n"
                    "(Shown once; `manage.py seed_demo --reset-password` makes a new one.)"
                )
            )
        else:
            self.stdout.write(
                f"Demo company exists; log in as {DEMO_EMAIL} "
                "(forgot the password? `manage.py seed_demo --reset-password`)."
            )
