"""Signed webhooks (docs/adr/0011-webhooks.md): subscriptions (`subscriptions`), the events
written into the delivery outbox with the change (`events`), the address guard (`addresses`),
the signature (`signing`) and the sender (`sender`). Other code imports these modules by name."""
