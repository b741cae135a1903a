"""Create the role groups with their fixed permission sets (staff.roles.ROLE_PERMISSIONS).

The post_migrate hook in StaffConfig re-syncs them after every migrate, so permissions of
models added later join their roles too.
"""

from django.db import migrations


def create_roles(apps, schema_editor):
    from staff.roles import roles_sync

    roles_sync(using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
