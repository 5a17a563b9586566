"""On PostgreSQL, the database itself forbids two active bookings of one doctor that overlap.

Written as SQL for PostgreSQL only (SQLite has no exclusion constraints); the model state does
not carry it, so makemigrations stays clean on both databases. Booking.doctor/starts_at/ends_at
are copied from the slot for exactly this constraint.
"""

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "booking_no_overlap_per_doctor"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE bookings_booking ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
        "(doctor_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        "WHERE (status = 'confirmed')"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE bookings_booking DROP CONSTRAINT IF EXISTS {CONSTRAINT}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0001_initial")]

    operations = [
        BtreeGistExtension(),
        migrations.RunPython(add_constraint, drop_constraint),
    ]
