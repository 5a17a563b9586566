"""Slot generation from weekly rules (across both DST changes of 2027) and the free-slot selector.

"Now" is frozen at Monday 1 March 2027, 07:00 in Berlin, so every date below is in the future
and the expectations are exact.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bookings import selectors
from bookings.models import Absence, AvailabilityRule, Booking, Slot
from bookings.services import absence_delete, absence_save, booking_cancel, booking_create, slots_generate
from practices.models import Doctor, Specialty, VisitReason
from tests.conftest import make_doctor, make_practice, make_slot

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 1, 7, 0, tzinfo=BERLIN)  # a Monday
MONDAY, SATURDAY, SUNDAY = 0, 5, 6

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("frozen_now", "fast_password_hashing")]


@pytest.fixture
def frozen_now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def doctor(specialty) -> Doctor:
    practice = make_practice("Praxis Gamma", "Hamburg", "20095")
    return make_doctor(practice, specialty, "Doktor Gamma")


def rule(doctor, weekday, start, end, minutes=30, **extra) -> AvailabilityRule:
    return AvailabilityRule.objects.create(
        doctor=doctor, weekday=weekday, start_time=start, end_time=end, slot_minutes=minutes, **extra
    )


def generate(doctor, first: date, last: date):
    return slots_generate(date_from=first, date_until=last, doctors=[doctor])


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def starts(doctor) -> list[datetime]:
    return list(Slot.objects.filter(doctor=doctor).order_by("starts_at").values_list("starts_at", flat=True))


def local_walls(doctor) -> list[str]:
    return [f"{s.astimezone(BERLIN):%Y-%m-%d %H:%M %Z}" for s in starts(doctor)]


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- slots_generate ---------------------------------------------------------------------------


def test_it_cuts_the_rules_into_slots_for_the_days_asked(doctor):
    rule(doctor, MONDAY, time(9), time(10))

    result = generate(doctor, date(2027, 3, 1), date(2027, 3, 14))

    assert result.created == 4
    assert local_walls(doctor) == [
        "2027-03-01 09:00 CET",
        "2027-03-01 09:30 CET",
        "2027-03-08 09:00 CET",
        "2027-03-08 09:30 CET",
    ]
    assert all(slot.rule_id is not None and slot.minutes == 30 for slot in Slot.objects.filter(doctor=doctor))


def test_it_is_idempotent(doctor):
    rule(doctor, MONDAY, time(9), time(12), minutes=15)
    rule(doctor, SATURDAY, time(8), time(9), minutes=20)
    generate(doctor, date(2027, 3, 1), date(2027, 4, 30))
    before = list(Slot.objects.filter(doctor=doctor).order_by("pk").values_list("pk", "starts_at", "ends_at"))

    again = generate(doctor, date(2027, 3, 1), date(2027, 4, 30))

    assert (again.created, again.deleted) == (0, 0)
    after = list(Slot.objects.filter(doctor=doctor).order_by("pk").values_list("pk", "starts_at", "ends_at"))
    assert after == before
    assert len(before) == 9 * 12 + 8 * 3


def test_it_creates_nothing_before_now(doctor):
    rule(doctor, MONDAY, time(6), time(8))
    with time_machine.travel(berlin(2027, 3, 1, 7, 10), tick=False):
        generate(doctor, date(2027, 2, 1), date(2027, 3, 1))

    assert local_walls(doctor) == ["2027-03-01 07:30 CET"]


def test_it_removes_free_slots_that_no_longer_match_the_rules_but_keeps_booked_ones(world, doctor):
    monday = rule(doctor, MONDAY, time(9), time(11))
    reason = VisitReason.objects.create(practice=doctor.practice, name="Sprechstunde")
    generate(doctor, date(2027, 3, 8), date(2027, 3, 8))
    slots = {s.starts_at.astimezone(BERLIN).strftime("%H:%M"): s for s in Slot.objects.filter(doctor=doctor)}
    booked = booking_create(
        patient=world.patient, slot=slots["09:30"], visit_reason=reason, insurance_type="statutory"
    )
    cancelled = booking_create(
        patient=world.patient2, slot=slots["10:30"], visit_reason=reason, insurance_type="statutory"
    )
    booking_cancel(booking=cancelled, cancelled_by=Booking.CancelledBy.SYSTEM)

    monday.start_time, monday.end_time, monday.slot_minutes = time(9, 15), time(11), 45
    monday.save()
    result = generate(doctor, date(2027, 3, 8), date(2027, 3, 8))

    # Wanted now: 09:15–10:00, 10:00–10:45. 09:15 overlaps the booked 09:30 slot and 10:00 the
    # kept 10:30 slot (it carries a cancelled booking), so neither is made.
    assert result.deleted == 2  # the free 09:00 and 10:00 slots
    assert local_walls(doctor) == ["2027-03-08 09:30 CET", "2027-03-08 10:30 CET"]
    assert Slot.objects.filter(pk=booked.slot_id).exists()
    assert Slot.objects.filter(pk=cancelled.slot_id).exists()
    assert_no_overlaps(doctor)


def test_it_removes_the_free_slots_of_a_deleted_rule(doctor):
    monday = rule(doctor, MONDAY, time(9), time(10))
    generate(doctor, date(2027, 3, 1), date(2027, 3, 14))
    monday.delete()

    result = generate(doctor, date(2027, 3, 1), date(2027, 3, 14))

    assert result.deleted == 4
    assert starts(doctor) == []


def test_it_leaves_slots_outside_the_range_alone(doctor):
    monday = rule(doctor, MONDAY, time(9), time(10))
    generate(doctor, date(2027, 3, 1), date(2027, 3, 14))
    monday.delete()

    generate(doctor, date(2027, 3, 8), date(2027, 3, 8))

    assert local_walls(doctor) == ["2027-03-01 09:00 CET", "2027-03-01 09:30 CET"]


def test_it_skips_times_covered_by_an_absence(doctor):
    rule(doctor, MONDAY, time(9), time(11))
    Absence.objects.create(doctor=doctor, starts_at=berlin(2027, 3, 8, 9, 45), ends_at=berlin(2027, 3, 8, 10, 5))

    generate(doctor, date(2027, 3, 8), date(2027, 3, 8))

    assert local_walls(doctor) == ["2027-03-08 09:00 CET", "2027-03-08 10:30 CET"]


def test_it_hides_and_restores_slots_when_an_absence_comes_and_goes(world, doctor):
    rule(doctor, MONDAY, time(9), time(11))
    generate(doctor, date(2027, 3, 8), date(2027, 3, 8))
    reason = VisitReason.objects.create(practice=doctor.practice, name="Sprechstunde")
    booked_slot = Slot.objects.get(doctor=doctor, starts_at=berlin(2027, 3, 8, 9, 0))
    booking_create(patient=world.patient, slot=booked_slot, visit_reason=reason, insurance_type="statutory")

    absence = absence_save(
        absence=Absence(doctor=doctor, starts_at=berlin(2027, 3, 8, 8), ends_at=berlin(2027, 3, 8, 10))
    )

    # The booked slot stays (the practice sorts that out with the patient); the free one goes.
    assert local_walls(doctor) == ["2027-03-08 09:00 CET", "2027-03-08 10:00 CET", "2027-03-08 10:30 CET"]

    absence_delete(absence=absence)

    assert local_walls(doctor) == [
        "2027-03-08 09:00 CET",
        "2027-03-08 09:30 CET",
        "2027-03-08 10:00 CET",
        "2027-03-08 10:30 CET",
    ]


def test_it_respects_valid_from_and_valid_until(doctor):
    rule(doctor, MONDAY, time(9), time(9, 30), valid_from=date(2027, 3, 8), valid_until=date(2027, 3, 15))
    rule(doctor, MONDAY, time(14), time(14, 30), valid_until=date(2027, 3, 1))
    rule(doctor, MONDAY, time(16), time(16, 30), valid_from=date(2027, 3, 22))

    generate(doctor, date(2027, 3, 1), date(2027, 3, 29))

    assert local_walls(doctor) == [
        "2027-03-01 14:00 CET",
        "2027-03-08 09:00 CET",
        "2027-03-15 09:00 CET",
        "2027-03-22 16:00 CET",
        "2027-03-29 16:00 CEST",
    ]


def test_it_generates_only_for_the_doctors_given(doctor, world):
    rule(doctor, MONDAY, time(9), time(10))

    result = generate(doctor, date(2027, 3, 1), date(2027, 3, 14))

    assert result.doctors == 1
    assert not Slot.objects.filter(doctor=world.a.doctor, rule__isnull=False).exists()


# --- DST: Sunday 28 March 2027 (02:00 → 03:00) and Sunday 31 October 2027 (03:00 → 02:00) -------


def assert_no_overlaps(doctor):
    slots = list(Slot.objects.filter(doctor=doctor).order_by("starts_at"))
    for earlier, later in zip(slots, slots[1:], strict=False):
        assert earlier.ends_at <= later.starts_at, f"{earlier} overlaps {later}"


def test_it_makes_only_the_night_slots_that_exist_when_the_clocks_go_forward(doctor):
    rule(doctor, SUNDAY, time(1), time(4))

    generate(doctor, date(2027, 3, 28), date(2027, 3, 28))

    assert local_walls(doctor) == [
        "2027-03-28 01:00 CET",
        "2027-03-28 01:30 CET",
        "2027-03-28 03:00 CEST",
        "2027-03-28 03:30 CEST",
    ]
    assert starts(doctor) == [utc(2027, 3, 28, 0, 0), utc(2027, 3, 28, 0, 30), utc(2027, 3, 28, 1, 0), utc(2027, 3, 28, 1, 30)]
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in Slot.objects.filter(doctor=doctor))
    assert_no_overlaps(doctor)


def test_it_makes_the_repeated_hour_twice_when_the_clocks_go_back(doctor):
    rule(doctor, SUNDAY, time(1), time(4))

    generate(doctor, date(2027, 10, 31), date(2027, 10, 31))

    assert local_walls(doctor) == [
        "2027-10-31 01:00 CEST",
        "2027-10-31 01:30 CEST",
        "2027-10-31 02:00 CEST",
        "2027-10-31 02:30 CEST",
        "2027-10-31 02:00 CET",
        "2027-10-31 02:30 CET",
        "2027-10-31 03:00 CET",
        "2027-10-31 03:30 CET",
    ]
    assert starts(doctor)[0] == utc(2027, 10, 30, 23, 0)
    assert starts(doctor)[-1] == utc(2027, 10, 31, 2, 30)
    assert all(slot.ends_at - slot.starts_at == timedelta(minutes=30) for slot in Slot.objects.filter(doctor=doctor))
    assert_no_overlaps(doctor)


@pytest.mark.parametrize("day", [date(2027, 3, 28), date(2027, 10, 31)])
def test_it_stays_idempotent_on_the_nights_the_clocks_change(doctor, day):
    rule(doctor, SUNDAY, time(1), time(4))
    generate(doctor, day, day)

    again = generate(doctor, day, day)

    assert (again.created, again.deleted) == (0, 0)


@pytest.mark.parametrize(
    ("saturday", "monday", "utc_before", "utc_after"),
    [
        (date(2027, 3, 27), date(2027, 3, 29), (7, 0), (6, 0)),
        (date(2027, 10, 30), date(2027, 11, 1), (6, 0), (7, 0)),
    ],
)
def test_it_keeps_the_wall_clock_time_on_both_sides_of_a_change(doctor, saturday, monday, utc_before, utc_after):
    rule(doctor, SATURDAY, time(8), time(10), minutes=60)
    rule(doctor, MONDAY, time(8), time(10), minutes=60)

    generate(doctor, saturday, monday)

    slots = starts(doctor)
    assert [f"{s.astimezone(BERLIN):%a %H:%M}" for s in slots] == ["Sat 08:00", "Sat 09:00", "Mon 08:00", "Mon 09:00"]
    assert (slots[0].hour, slots[0].minute) == utc_before
    assert (slots[2].hour, slots[2].minute) == utc_after
    assert all(slot.minutes == 60 for slot in Slot.objects.filter(doctor=doctor))


# --- the generate_slots command ----------------------------------------------------------------


def test_it_generates_slots_for_the_coming_weeks_from_the_command(world, doctor):
    rule(doctor, MONDAY, time(9), time(10))
    out = StringIO()

    call_command("generate_slots", "--weeks", "2", stdout=out, stderr=StringIO())

    # Today (Monday 1 March) plus two weeks: the Mondays 1, 8 and 15 March.
    assert len(starts(doctor)) == 6
    # The world's doctors have a Monday rule 09:00–12:00 in 15-minute slots.
    for verified in (world.a.doctor, world.b.doctor):
        assert Slot.objects.filter(doctor=verified, rule__isnull=False).count() == 3 * 12
    output = out.getvalue()
    assert "15.03.2027" in output
    assert "3 doctors" in output
    assert f"{6 + 2 * 36} created" in output

    again = StringIO()
    call_command("generate_slots", "--weeks", "2", stdout=again, stderr=StringIO())
    assert "0 created, 0 removed" in again.getvalue()


def test_it_generates_for_one_doctor_from_the_command(world, doctor):
    rule(doctor, MONDAY, time(9), time(10))

    call_command(
        "generate_slots", "--weeks", "1", "--doctor", str(doctor.public_id), stdout=StringIO(), stderr=StringIO()
    )

    assert len(starts(doctor)) == 4
    assert not Slot.objects.filter(doctor=world.a.doctor, rule__isnull=False).exists()


@pytest.mark.parametrize("args", [["--weeks", "0"], ["--weeks", "105"], ["--doctor", "00000000-0000-0000-0000-000000000000"]])
def test_it_refuses_bad_arguments_to_the_command(db, args):
    with pytest.raises(CommandError):
        call_command("generate_slots", *args, stdout=StringIO(), stderr=StringIO())


# --- slots_free -----------------------------------------------------------------------------


def free(**filters) -> list[Slot]:
    return list(selectors.slots_free(**filters))


@pytest.fixture
def grid(world):
    """Free slots of both world practices, three and five days ahead, plus a second specialty."""
    cardiology = Specialty.objects.create(name="Kardiologie", slug="kardiologie")
    cardiologist = make_doctor(world.b.practice, cardiology, "Doktor Herz")
    return {
        "a": make_slot(world.a.doctor, days=5, hour=9),
        "a_later": make_slot(world.a.doctor, days=9, hour=9),
        "b": make_slot(world.b.doctor, days=5, hour=11),
        "heart": make_slot(cardiologist, days=6, hour=14),
        "cardiology": cardiology,
        "cardiologist": cardiologist,
    }


def test_it_lists_free_slots_soonest_first(world, grid):
    assert free() == [grid["a"], grid["b"], grid["heart"], grid["a_later"]]


def test_it_filters_free_slots_by_practice_doctor_and_specialty(world, grid):
    assert free(practice=world.a.practice) == [grid["a"], grid["a_later"]]
    assert free(doctor=world.b.doctor) == [grid["b"]]
    assert free(specialty=grid["cardiology"]) == [grid["heart"]]
    assert free(specialty=world.specialty) == [grid["a"], grid["b"], grid["a_later"]]


@pytest.mark.parametrize("city", ["Berlin", "berlin", " BERLIN "])
def test_it_filters_free_slots_by_city_ignoring_case(world, grid, city):
    assert free(city=city) == [grid["a"], grid["a_later"]]


def test_it_filters_free_slots_by_a_city_with_an_umlaut(world, grid):
    assert free(city="münchen") == [grid["b"], grid["heart"]]


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [("1", ["a", "a_later"]), ("101", ["a", "a_later"]), ("10115", ["a", "a_later"]), ("8", ["b", "heart"]), ("9", [])],
)
def test_it_filters_free_slots_by_postal_code_prefix(world, grid, prefix, expected):
    assert free(postal_code=prefix) == sorted((grid[key] for key in expected), key=lambda s: s.starts_at)


def test_it_filters_free_slots_by_insurance_type(world, grid):
    world.b.practice.accepts_private = False
    world.b.practice.save()

    assert free(insurance_type="private") == [grid["a"], grid["a_later"]]
    assert free(insurance_type="statutory") == [grid["a"], grid["b"], grid["heart"], grid["a_later"]]


def test_it_filters_free_slots_by_the_length_a_visit_reason_needs(world, grid):
    short = make_slot(world.a.doctor, days=7, hour=9, minutes=15)
    world.a.reason.duration_minutes = 30
    world.a.reason.save()

    assert short not in free(visit_reason=world.a.reason)
    assert free(visit_reason=world.a.reason) == [grid["a"], grid["a_later"]]
    world.a.reason.duration_minutes = 15
    world.a.reason.save()
    assert free(visit_reason=world.a.reason) == [grid["a"], short, grid["a_later"]]


def test_it_filters_free_slots_by_the_visit_reasons_of_their_rule(world, grid):
    vaccination = VisitReason.objects.create(practice=world.a.practice, name="Impfung")
    world.a.rule.visit_reasons.set([vaccination])
    Slot.objects.filter(pk=grid["a"].pk).update(rule=world.a.rule)
    open_rule = AvailabilityRule.objects.create(
        doctor=world.a.doctor, weekday=2, start_time=time(9), end_time=time(10)
    )
    Slot.objects.filter(pk=grid["a_later"].pk).update(rule=open_rule)

    assert free(visit_reason=world.a.reason) == [grid["a_later"]]
    assert free(visit_reason=vaccination) == [grid["a"], grid["a_later"]]


def test_it_lists_no_slots_for_a_visit_reason_that_cannot_be_booked(world, grid):
    world.a.reason.accepts_private = False
    world.a.reason.new_patients_allowed = False
    world.a.reason.save()

    assert free(visit_reason=world.a.reason, insurance_type="private") == []
    assert free(visit_reason=world.a.reason, new_patient=True) == []
    assert free(visit_reason=world.a.reason, insurance_type="statutory") == [grid["a"], grid["a_later"]]
    world.a.reason.is_active = False
    world.a.reason.save()
    assert free(visit_reason=world.a.reason) == []


def test_it_filters_free_slots_by_local_dates(world, doctor):
    # 00:30 on 3 March in Berlin is 23:30 on 2 March in UTC: it belongs to 3 March.
    just_after_midnight = Slot.objects.create(
        doctor=doctor, starts_at=berlin(2027, 3, 3, 0, 30), ends_at=berlin(2027, 3, 3, 1, 0)
    )
    late_evening = Slot.objects.create(
        doctor=doctor, starts_at=berlin(2027, 3, 2, 23, 30), ends_at=berlin(2027, 3, 3, 0, 0)
    )
    next_day = Slot.objects.create(doctor=doctor, starts_at=berlin(2027, 3, 4, 9), ends_at=berlin(2027, 3, 4, 9, 30))

    assert free(doctor=doctor, date_from=date(2027, 3, 3), date_until=date(2027, 3, 3)) == [just_after_midnight]
    assert free(doctor=doctor, date_until=date(2027, 3, 2)) == [late_evening]
    assert free(doctor=doctor, date_from=date(2027, 3, 3)) == [just_after_midnight, next_day]


def test_it_hides_booked_slots_and_shows_them_again_once_cancelled(world, grid):
    assert world.a.slot not in free()
    booking_cancel(booking=world.a.booking, cancelled_by=Booking.CancelledBy.SYSTEM)

    assert world.a.slot in free()


def test_it_hides_a_slot_that_overlaps_a_booking_of_another_slot_of_the_doctor(world, grid):
    overlapping = Slot.objects.create(
        doctor=world.a.doctor,
        starts_at=world.a.slot.starts_at + timedelta(minutes=15),
        ends_at=world.a.slot.ends_at + timedelta(minutes=15),
    )

    assert overlapping not in free(doctor=world.a.doctor)


def test_it_hides_slots_under_an_absence(world, grid):
    Absence.objects.create(
        doctor=world.a.doctor,
        starts_at=grid["a"].starts_at + timedelta(minutes=10),
        ends_at=grid["a"].starts_at + timedelta(minutes=20),
    )

    assert free(doctor=world.a.doctor) == [grid["a_later"]]


def test_it_hides_past_slots(world, grid):
    past = make_slot(world.a.doctor, days=-1, hour=9)
    started = Slot.objects.create(
        doctor=world.a.doctor, starts_at=timezone.now(), ends_at=timezone.now() + timedelta(minutes=30)
    )

    assert past not in free()
    assert started not in free()


def test_it_hides_slots_of_unverified_doctors_and_inactive_practices(world, grid):
    Doctor.objects.filter(pk=world.a.doctor.pk).update(verification_status=Doctor.Verification.PENDING)
    world.b.practice.is_active = False
    world.b.practice.save()

    assert free() == []
    Doctor.objects.filter(pk=world.a.doctor.pk).update(verification_status=Doctor.Verification.VERIFIED)
    assert free() == [grid["a"], grid["a_later"]]


def many_slots(doctor, count: int) -> None:
    start = berlin(2027, 3, 2, 8)
    Slot.objects.bulk_create(
        Slot(
            doctor=doctor,
            starts_at=start + timedelta(minutes=15 * i),
            ends_at=start + timedelta(minutes=15 * (i + 1)),
        )
        for i in range(count)
    )


def queries_to_list_and_touch(**filters) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        slots = list(selectors.slots_free(**filters))
        for slot in slots:
            assert slot.doctor.practice.name
            assert slot.doctor.specialty.name
    return len(captured.captured_queries), len(slots)


@pytest.mark.parametrize("with_filters", [False, True])
def test_it_lists_free_slots_in_the_same_number_of_queries_however_many_there_are(
    world, doctor, django_assert_num_queries, with_filters
):
    filters = (
        {
            "city": "hamburg",
            "postal_code": "20",
            "insurance_type": "statutory",
            "specialty": world.specialty,
            "date_from": date(2027, 3, 1),
            "date_until": date(2027, 12, 31),
        }
        if with_filters
        else {}
    )
    many_slots(doctor, 10)
    few_queries, few = queries_to_list_and_touch(**filters)
    Slot.objects.filter(doctor=doctor).delete()
    many_slots(doctor, 500)
    many_queries, many = queries_to_list_and_touch(**filters)

    assert few >= 10 and many >= 500
    assert few_queries == many_queries == 1
    with django_assert_num_queries(1):
        assert len(list(selectors.slots_free(**filters))) == many


def test_it_lists_free_slots_for_a_visit_reason_in_one_query(world, doctor, django_assert_num_queries):
    reason = VisitReason.objects.create(practice=doctor.practice, name="Kontrolle", duration_minutes=15)
    many_slots(doctor, 200)

    with django_assert_num_queries(1):
        slots = list(selectors.slots_free(visit_reason=reason, insurance_type="private"))
        assert {slot.doctor.practice.name for slot in slots} == {"Praxis Gamma"}

    assert len(slots) == 200


def test_it_stops_reading_slots_once_the_wanted_doctors_have_their_slots(doctor, specialty, monkeypatch):
    other = make_doctor(doctor.practice, specialty, "Doktor Delta")
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    for who in (doctor, other):
        Slot.objects.bulk_create(
            Slot(doctor=who, starts_at=start + timedelta(minutes=30 * i), ends_at=start + timedelta(minutes=30 * i + 30))
            for i in range(40)
        )
    read = []
    from_db = Slot.from_db.__func__

    def counting_from_db(cls, *args, **kwargs):
        read.append(1)
        return from_db(cls, *args, **kwargs)

    monkeypatch.setattr(Slot, "from_db", classmethod(counting_from_db))

    (hit,) = selectors.doctors_with_next_slots(specialty=specialty, place="Hamburg", per_doctor=2, max_doctors=1)

    assert hit.doctor == min(doctor, other, key=lambda d: d.pk)
    assert [slot.starts_at for slot in hit.slots] == [start, start + timedelta(minutes=30)]
    # The first doctor's second slot fills the page: the 77 later slots are never read.
    assert len(read) == 3
