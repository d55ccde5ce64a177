"""The hooks of core that floors above listen to (core imports none of them)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent (with ``tenant=``) inside create_tenant's transaction, right after the company and its
# owner's membership are written: the apps above give the new company what it starts with
# (orders: the default statuses). A receiver that fails rolls the whole sign-up back.
tenant_created = Signal()
