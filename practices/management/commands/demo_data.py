"""Seed the demo: practices in several cities, doctors, rules, visit reasons, FAQ, slots and logins.

Idempotent: a second run updates what the first made and adds nothing twice.
"""

import os
from datetime import time, timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from bookings.models import AvailabilityRule
from bookings.services import slots_generate
from practices.models import (
    Doctor,
    FAQEntry,
    Membership,
    OpeningHours,
    Practice,
    Specialty,
    VisitReason,
)
from terminfinder.accounts.models import User

SPECIALTIES = [
    ("allgemeinmedizin", "Allgemeinmedizin", "General practice"),
    ("zahnmedizin", "Zahnmedizin", "Dentistry"),
    ("dermatologie", "Dermatologie", "Dermatology"),
    ("kinderheilkunde", "Kinder- und Jugendmedizin", "Paediatrics"),
    ("orthopaedie", "Orthopädie", "Orthopaedics"),
]

PRACTICES = [
    {
        "slug": "hausarztpraxis-mitte",
        "name": "Hausarztpraxis Mitte",
        "street": "Torstraße 101",
        "postal_code": "10119",
        "city": "Berlin",
        "phone": "+49 30 5550101",
        "accepts_private": True,
        "doctors": [
            ("allgemeinmedizin", "Dr. med.", "Anna Schneider", True),
            ("allgemeinmedizin", "", "Jonas Weber", False),
        ],
        "reasons": [("Akutsprechstunde", "Acute consultation", 15, True), ("Check-up 35", "Check-up 35", 30, True)],
    },
    {
        "slug": "zahnarzt-schwabing",
        "name": "Zahnarztpraxis Schwabing",
        "street": "Leopoldstraße 42",
        "postal_code": "80802",
        "city": "München",
        "phone": "+49 89 5550202",
        "accepts_private": True,
        "doctors": [("zahnmedizin", "Dr. med. dent.", "Lukas Huber", True)],
        "reasons": [("Kontrolle", "Check-up", 30, True), ("Professionelle Zahnreinigung", "Dental cleaning", 60, False)],
    },
    {
        "slug": "hautarzt-eppendorf",
        "name": "Hautarztpraxis Eppendorf",
        "street": "Eppendorfer Landstraße 7",
        "postal_code": "20249",
        "city": "Hamburg",
        "phone": "+49 40 5550303",
        "accepts_private": True,
        "doctors": [
            ("dermatologie", "Dr. med.", "Mia Hoffmann", True),
            ("dermatologie", "Dr. med.", "Felix Wagner", True),
        ],
        "reasons": [("Hautkrebs-Screening", "Skin cancer screening", 30, True), ("Erstgespräch", "First consultation", 30, True)],
    },
    {
        "slug": "kinderarzt-ehrenfeld",
        "name": "Kinderarztpraxis Ehrenfeld",
        "street": "Venloer Straße 250",
        "postal_code": "50823",
        "city": "Köln",
        "phone": "+49 221 5550404",
        "accepts_private": False,
        "doctors": [("kinderheilkunde", "Dr. med.", "Sophie Becker", True)],
        "reasons": [("U-Untersuchung", "Child check-up", 30, True), ("Impfung", "Vaccination", 15, True)],
    },
]

FAQ = [
    ("de", "Wo finde ich die Praxis?", "Sie finden uns in der {street}, {postal_code} {city}.", "adresse, anfahrt, wo"),
    ("en", "Where is the practice?", "You find us at {street}, {postal_code} {city}.", "address, directions, where"),
    ("de", "Welche Versicherungen nehmen Sie an?", "Wir behandeln gesetzlich Versicherte{private} und Selbstzahler.", "versicherung, kasse, privat"),
    ("en", "Which insurance do you accept?", "We treat patients with statutory insurance{private_en} and self-payers.", "insurance, private, statutory"),
    ("de", "Was muss ich mitbringen?", "Bitte bringen Sie Ihre Versichertenkarte und ggf. Befunde mit.", "mitbringen, karte"),
    ("en", "What should I bring?", "Please bring your insurance card and any previous findings.", "bring, card"),
    ("de", "Wo kann ich parken?", "Parkplätze finden Sie in den Seitenstraßen rund um die Praxis; Bus und Bahn halten in der Nähe.", "parken, parkplatz, auto"),
    ("en", "Where can I park?", "You find parking in the side streets around the practice; buses and trains stop nearby.", "parking, park, car"),
    ("de", "Wie buche ich einen Termin?", "Freie Termine buchen Sie online hier bei Terminfinder: Ärztin oder Arzt, Besuchsgrund und Uhrzeit wählen, fertig.", "termin, buchen, online, vereinbaren"),
    ("en", "How do I book an appointment?", "Book a free appointment online here on Terminfinder: choose the doctor, the visit reason and a time.", "book, appointment, online"),
    ("de", "Wie sage ich einen Termin ab?", "Unter „Meine Termine“ sagen Sie bis {deadline} Stunden vorher online ab; danach rufen Sie uns bitte an: {phone}.", "absagen, stornieren, verschieben"),
    ("en", "How do I cancel an appointment?", "Cancel online under “My appointments” until {deadline} hours before; after that please call us: {phone}.", "cancel, reschedule"),
]


class Command(BaseCommand):
    help = "Seed demo practices, doctors, slots and logins (idempotent). Refuses to run without DEBUG."

    def add_arguments(self, parser):
        parser.add_argument("--weeks", type=int, default=4, help="Weeks of slots (default 4).")
        parser.add_argument(
            "--force", action="store_true", help="Run even with DEBUG off (never on a real site)."
        )

    def handle(self, *args, weeks: int, force: bool, **options):
        if not (settings.DEBUG or force):
            raise CommandError("demo_data creates known logins; it runs only with DJANGO_DEBUG=1 (or --force).")
        password = os.environ.get("DEMO_PASSWORD", "terminfinder-demo")
        with transaction.atomic():
            specialties = self._specialties()
            logins = [("Platform admin", self._user("admin@terminfinder.local", password, superuser=True))]
            for index, data in enumerate(PRACTICES):
                practice = self._practice(data, specialties)
                owner = self._user(f"praxis{index + 1}@terminfinder.local", password, staff=True)
                Membership.objects.update_or_create(
                    user=owner, practice=practice, defaults={"role": Membership.Role.OWNER}
                )
                logins.append((f"Staff of {practice.name}", owner))
            logins.append(("Demo patient", self._user("patient@terminfinder.local", password, name="Paula Patientin")))
        today = timezone.localdate()
        result = slots_generate(date_from=today, date_until=today + timedelta(weeks=weeks))
        self.stdout.write(self.style.SUCCESS(
            f"Demo data ready: {len(PRACTICES)} practices, {result.created} new slots."
        ))
        self.stdout.write("Demo logins (password for all: %s):" % password)
        for label, user in logins:
            self.stdout.write(f"  {label:<40} {user.email}")

    def _specialties(self) -> dict[str, Specialty]:
        return {
            slug: Specialty.objects.update_or_create(slug=slug, defaults={"name": name, "name_en": name_en})[0]
            for slug, name, name_en in SPECIALTIES
        }

    def _user(self, email, password, superuser=False, staff=False, name=""):
        user, created = User.objects.get_or_create(
            email=email,
            defaults={"is_superuser": superuser, "is_staff": superuser or staff, "full_name": name},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        # allauth demands a verified address before a login (mandatory verification).
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
        return user

    def _practice(self, data, specialties) -> Practice:
        fields = {k: v for k, v in data.items() if k not in {"slug", "doctors", "reasons"}}
        fields["email"] = f"{data['slug']}@terminfinder.local"
        fields["description"] = f"{data['name']} in {data['city']}."
        practice, _ = Practice.objects.update_or_create(slug=data["slug"], defaults=fields)
        for weekday in range(5):
            OpeningHours.objects.update_or_create(
                practice=practice, weekday=weekday, opens=time(8), defaults={"closes": time(18)}
            )
        reasons = []
        for name, name_en, minutes, new_patients in data["reasons"]:
            reason, _ = VisitReason.objects.update_or_create(
                practice=practice,
                name=name,
                defaults={
                    "name_en": name_en,
                    "duration_minutes": minutes,
                    "new_patients_allowed": new_patients,
                    "accepts_private": data["accepts_private"],
                },
            )
            reasons.append(reason)
        for slug, title, name, verified in data["doctors"]:
            doctor, created = Doctor.objects.get_or_create(
                practice=practice,
                name=name,
                defaults={"title": title, "specialty": specialties[slug]},
            )
            if created and verified:
                doctor.verification_status = Doctor.Verification.VERIFIED
                doctor.verified_at = timezone.now()
                doctor.save(update_fields=["verification_status", "verified_at"])
            slot_minutes = max(r.duration_minutes for r in reasons)
            for weekday in range(5):
                for start, end in ((time(8), time(12)), (time(14), time(17))):
                    AvailabilityRule.objects.get_or_create(
                        doctor=doctor,
                        weekday=weekday,
                        start_time=start,
                        defaults={"end_time": end, "slot_minutes": slot_minutes},
                    )
        private = " und Privatversicherte" if data["accepts_private"] else ""
        private_en = ", private insurance" if data["accepts_private"] else ""
        for position, (language, question, answer, keywords) in enumerate(FAQ):
            FAQEntry.objects.update_or_create(
                practice=practice,
                question=question,
                defaults={
                    "language": language,
                    "position": position,
                    "keywords": keywords,
                    "answer": answer.format(
                        street=practice.street,
                        postal_code=practice.postal_code,
                        city=practice.city,
                        private=private,
                        private_en=private_en,
                        deadline=practice.cancellation_deadline_hours,
                        phone=practice.phone,
                    ),
                },
            )
        return practice
