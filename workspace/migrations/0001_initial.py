"""ImportJob, ImportRowError and Export move here from datasets, rows and all.

The state takes over the tables under their old names (datasets' 0007 dropped them from its state only),
then they are renamed to this app's; the content types follow, so admin permissions and history stay.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

MOVED = ('importjob', 'importrowerror', 'export')


def content_types_move(apps, schema_editor, source='datasets', target='workspace'):
    content_types = apps.get_model('contenttypes', 'ContentType').objects.using(schema_editor.connection.alias)
    # A migrate run that stopped between the two apps may have made the target's content types already.
    taken = set(content_types.filter(app_label=target, model__in=MOVED).values_list('model', flat=True))
    content_types.filter(app_label=source, model__in=set(MOVED) - taken).update(app_label=target)


def content_types_back(apps, schema_editor):
    content_types_move(apps, schema_editor, source='workspace', target='datasets')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('datasets', '0007_jobs_to_workspace'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='ImportJob',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('message', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, help_text='Last sign of life of the worker running it; a stale one means it died.', null=True)),
                        ('attempts', models.PositiveIntegerField(default=0, help_text='Claims by a worker so far; only the newest claim may write the result.')),
                        ('interruptions', models.PositiveSmallIntegerField(default=0, help_text='Times its worker stopped mid-run.')),
                        ('dispatched_at', models.DateTimeField(blank=True, default=django.utils.timezone.now, help_text='When it was last sent to the workers; a queued job waiting long is re-sent.', null=True)),
                        ('kind', models.CharField(choices=[('products', 'Products'), ('taxonomy', 'Taxonomy'), ('labelstudio', 'Label Studio export (tasks with annotations)'), ('prodigy', 'Prodigy JSONL (text, label/accept, answer)')], max_length=16)),
                        ('status', models.CharField(choices=[('draft', 'Waiting for column mapping'), ('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=16)),
                        ('file', models.FileField(upload_to='imports/%Y/%m/')),
                        ('filename', models.CharField(max_length=255)),
                        ('options', models.JSONField(blank=True, default=dict)),
                        ('bytes_total', models.BigIntegerField(default=0)),
                        ('bytes_done', models.BigIntegerField(default=0)),
                        ('records_done', models.BigIntegerField(default=0, help_text='Records committed; a resumed job skips them.')),
                        ('created_count', models.BigIntegerField(default=0)),
                        ('updated_count', models.BigIntegerField(default=0)),
                        ('error_count', models.BigIntegerField(default=0)),
                        ('label_count', models.BigIntegerField(default=0)),
                        ('lines_read', models.BigIntegerField(default=0, help_text='Physical lines of a product file read so far (items of a JSON array).')),
                        ('lines_skipped', models.BigIntegerField(default=0, help_text='Lines that hold no record: header, blank lines, the later lines of multi-line records. created + updated + rejected + skipped = read.')),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='import_jobs', to='datasets.dataset')),
                    ],
                    options={
                        'db_table': 'datasets_importjob',
                        'ordering': ['-created_at', '-id'],
                    },
                ),
                migrations.CreateModel(
                    name='ImportRowError',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('line', models.PositiveIntegerField()),
                        ('line_end', models.PositiveIntegerField(blank=True, help_text='Last line of a broken record that ran over several; null: just `line`.', null=True)),
                        ('external_id', models.CharField(blank=True, max_length=255)),
                        ('reason', models.CharField(max_length=500)),
                        ('job', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='row_errors', to='workspace.importjob')),
                    ],
                    options={
                        'db_table': 'datasets_importrowerror',
                        'ordering': ['job', 'line', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Export',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('status', models.CharField(choices=[('queued', 'Queued'), ('running', 'Running'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('cancelled', 'Cancelled')], default='queued', max_length=16)),
                        ('message', models.TextField(blank=True)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('started_at', models.DateTimeField(blank=True, null=True)),
                        ('finished_at', models.DateTimeField(blank=True, null=True)),
                        ('heartbeat_at', models.DateTimeField(blank=True, help_text='Last sign of life of the worker running it; a stale one means it died.', null=True)),
                        ('attempts', models.PositiveIntegerField(default=0, help_text='Claims by a worker so far; only the newest claim may write the result.')),
                        ('interruptions', models.PositiveSmallIntegerField(default=0, help_text='Times its worker stopped mid-run.')),
                        ('dispatched_at', models.DateTimeField(blank=True, default=django.utils.timezone.now, help_text='When it was last sent to the workers; a queued job waiting long is re-sent.', null=True)),
                        ('format', models.CharField(choices=[('csv', 'CSV'), ('jsonl', 'JSON Lines'), ('json', 'JSON'), ('spacy', 'spaCy DocBin (.spacy)'), ('parquet', 'Parquet'), ('labelstudio', 'Label Studio JSON')], max_length=16)),
                        ('policy', models.CharField(choices=[('final', 'Final labels (gold, reviewed or agreed)'), ('majority', 'Majority vote with a minimum agreement'), ('raw', 'Every annotation with its annotator')], default='final', max_length=16)),
                        ('params', models.JSONField(default=dict, help_text='Every parameter that shapes the file, split and seed included.')),
                        ('file', models.FileField(blank=True, max_length=500, upload_to='exports/')),
                        ('filename', models.CharField(blank=True, max_length=255)),
                        ('row_count', models.BigIntegerField(default=0)),
                        ('rows_done', models.BigIntegerField(default=0)),
                        ('rows_total', models.BigIntegerField(default=0, help_text='Estimated when the build starts, for progress.')),
                        ('size_bytes', models.BigIntegerField(default=0)),
                        ('sha256', models.CharField(blank=True, max_length=64)),
                        ('split_counts', models.JSONField(blank=True, default=dict)),
                        ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                        ('dataset', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='exports', to='datasets.dataset')),
                    ],
                    options={
                        'db_table': 'datasets_export',
                        'ordering': ['-created_at', '-id'],
                        'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('status', 'succeeded'), _negated=True), models.Q(models.Q(('sha256', ''), _negated=True), models.Q(('file', ''), _negated=True)), _connector='OR'), name='export_ready_has_file')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.AlterModelTable(name='importjob', table=None),
        migrations.AlterModelTable(name='importrowerror', table=None),
        migrations.AlterModelTable(name='export', table=None),
        migrations.RunPython(content_types_move, content_types_back),
    ]
