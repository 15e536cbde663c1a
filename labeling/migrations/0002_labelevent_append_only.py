"""Label history is append-only, enforced by the database itself, not only by the code that writes it."""

from django.db import migrations

POSTGRES_UP = """
CREATE FUNCTION labeling_labelevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'label events are append-only (% refused)', TG_OP;
END
$$ LANGUAGE plpgsql;
CREATE TRIGGER labeling_labelevent_append_only
    BEFORE UPDATE OR DELETE ON labeling_labelevent
    FOR EACH ROW EXECUTE FUNCTION labeling_labelevent_append_only();
"""
POSTGRES_DOWN = """
DROP TRIGGER IF EXISTS labeling_labelevent_append_only ON labeling_labelevent;
DROP FUNCTION IF EXISTS labeling_labelevent_append_only();
"""
# SQLite refuses updates only: Django's test flush empties tables with DELETE there.
SQLITE_UP = """
CREATE TRIGGER labeling_labelevent_append_only BEFORE UPDATE ON labeling_labelevent
BEGIN SELECT RAISE(ABORT, 'label events are append-only (UPDATE refused)'); END;
"""
SQLITE_DOWN = "DROP TRIGGER IF EXISTS labeling_labelevent_append_only;"


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_UP, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_UP)


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        schema_editor.execute(SQLITE_DOWN)


class Migration(migrations.Migration):
    dependencies = [("labeling", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
