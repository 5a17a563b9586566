from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from tqdm import tqdm

from bookings.services import slots_generate
from practices.models import Doctor


class Command(BaseCommand):
    help = "Materialise bookable slots from the availability rules, minus absences (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--weeks",
            type=int,
            default=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS,
            help="How many weeks ahead, from today (default: the booking horizon).",
        )
        parser.add_argument(
            "--doctor", action="append", default=[], metavar="PUBLIC_ID",
            help="Only this doctor (public id); may be given more than once.",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bar.")

    def handle(self, *args, weeks: int, doctor: list[str], no_progress: bool, **options):
        if not 1 <= weeks <= 104:
            raise CommandError("--weeks must be between 1 and 104.")
        doctors = Doctor.objects.order_by("pk")
        if doctor:
            doctors = doctors.filter(public_id__in=doctor)
            if doctors.count() != len(set(doctor)):
                raise CommandError("Unknown doctor public id.")
        doctors = list(doctors)
        today = timezone.localdate()
        until = today + timedelta(weeks=weeks)
        with tqdm(
            total=len(doctors),
            desc="Generating slots",
            unit="doctor",
            disable=no_progress or None,
            file=self.stderr._out,
        ) as bar:
            result = slots_generate(
                date_from=today, date_until=until, doctors=doctors, progress=lambda _: bar.update()
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"Slots until {until:%d.%m.%Y} for {result.doctors} doctors: "
                f"{result.created} created, {result.deleted} removed."
            )
        )
