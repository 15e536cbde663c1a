"""ImportJob, ImportRowError and Export now belong to the workspace app: gone from this app's state only.

The tables stay; workspace's 0001_initial takes them over and renames them.
"""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('datasets', '0006_import_line_accounting'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name='ImportRowError'),
                migrations.DeleteModel(name='ImportJob'),
                migrations.DeleteModel(name='Export'),
            ],
            database_operations=[],
        ),
    ]
