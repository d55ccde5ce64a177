"""Existing companies get the default template sets (Polish and English) that new companies get
on sign-up (notifications.template_sets.seed_default_sets)."""

from django.db import migrations

# The default sets' texts (plain data: names, triggers, categories, subjects, bodies).
from notifications.template_sets import DEFAULT_SETS


def seed(apps, schema_editor):
    Tenant = apps.get_model("core", "Tenant")
    OrderStatus = apps.get_model("orders", "OrderStatus")
    TemplateSet = apps.get_model("notifications", "TemplateSet")
    MessageTemplate = apps.get_model("notifications", "MessageTemplate")
    for tenant in Tenant.objects.all():
        statuses = {
            s.system_code: s
            for s in OrderStatus.objects.filter(tenant=tenant).exclude(system_code="")
        }
        existing = set(TemplateSet.objects.filter(tenant=tenant).values_list("name", flat=True))
        for name, language, templates in DEFAULT_SETS:
            if name in existing:
                continue
            template_set = TemplateSet.objects.create(tenant=tenant, name=name, language=language)
            rows = []
            for t_name, trigger, code, category, subject, body in templates:
                status = statuses.get(code) if code else None
                if trigger == "status_entered" and status is None:
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


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0002_template_sets"),
        ("orders", "0008_orderevent_mail_kind"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
