"""GDPR: the export holds every record about the person; after deletion no table holds their
personal data, and the practices' records stay consistent (bookings kept, anonymised)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.urls import reverse

from bookings.models import Booking, SlotAlert
from bookings.services import booking_cancel, booking_create
from practices.models import Membership
from tests.conftest import PASSWORD, HttpsClient, make_slot
from terminfinder.accounts.models import User
from terminfinder.accounts.services import user_delete, user_export_data, user_relations


@pytest.fixture
def person(world):
    """The patient with something in every place personal data can be: details, two bookings
    (one cancelled by them with a reason), an alert, a membership, a TOTP device, a session and
    an admin log entry naming them."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    patient = world.patient
    patient.full_name = "Paula Unverwechselbar"
    patient.phone = "+49 170 9988776"
    patient.date_of_birth = date(1987, 6, 5)
    patient.save()
    second = booking_create(
        patient=patient,
        slot=make_slot(world.b.doctor, days=6),
        visit_reason=world.b.reason,
        insurance_type="private",
        note="Allergie gegen Penicillin",
    )
    booking_cancel(booking=second, cancelled_by="patient", actor=patient, reason="Bin krank, Paula")
    Booking.objects.filter(pk=world.a.booking.pk).update(note="Rückruf an Paula erbeten")
    Membership.objects.create(user=patient, practice=world.b.practice, role=Membership.Role.STAFF)
    TOTP.activate(patient, generate_totp_secret())
    HttpsClient().post(reverse("account_login"), {"login": patient.email, "password": PASSWORD})
    LogEntry.objects.log_actions(
        user_id=world.admin.pk, queryset=[patient], action_flag=CHANGE, change_message="Edited", single_object=True
    )
    return patient


MARKERS = ("patient@example.org", "Paula Unverwechselbar", "+49 170 9988776", "1987-06-05",
           "Penicillin", "Rückruf an Paula", "Bin krank, Paula")


def test_it_exports_every_record_that_points_at_the_person(world, person):
    data = user_export_data(user=person)

    assert data["account"]["email"] == person.email
    assert data["account"]["full_name"] == "Paula Unverwechselbar"
    assert data["account"]["date_of_birth"] == "1987-06-05"
    for rel in user_relations():
        if rel.many_to_many:
            continue
        count = rel.related_model._default_manager.filter(**{rel.field.name: person}).count()
        exported = data["records"].get(rel.related_model._meta.label, [])
        assert len(exported) == count, rel.related_model._meta.label
    bookings = data["records"]["bookings.Booking"]
    assert {b["code"] for b in bookings} == {b.code for b in Booking.objects.filter(patient=person)}
    assert "Allergie gegen Penicillin" in json.dumps(data, ensure_ascii=False)
    assert data["records"]["bookings.SlotAlert"][0]["practice"] == "Praxis Alpha"
    assert "secret" not in json.dumps(data["records"].get("mfa.Authenticator"))


def test_it_downloads_the_export_as_json(world, person, patient_web):
    response = patient_web.post(reverse("bookings:account-export"))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["account"]["phone"] == "+49 170 9988776"


def every_value_in_the_database() -> str:
    chunks = []
    for model in apps.get_models():
        for row in model._default_manager.all().values():
            chunks.append(json.dumps(row, default=str, ensure_ascii=False))
    for session in Session.objects.all():
        chunks.append(json.dumps(session.get_decoded(), default=str))
    return "\n".join(chunks)


def test_it_leaves_no_personal_data_in_any_table_after_deletion(world, person):
    assert all(marker in every_value_in_the_database() for marker in MARKERS)  # the control
    bookings = list(Booking.objects.filter(patient=person).values_list("pk", flat=True))
    user_id = person.pk

    user_delete(user=person)

    dump = every_value_in_the_database()
    assert [marker for marker in MARKERS if marker in dump] == []
    assert not User.objects.filter(pk=user_id).exists()
    assert not SlotAlert.objects.filter(pk=world.a.alert.pk).exists()
    assert not Membership.objects.filter(user_id=user_id).exists()
    assert not LogEntry.objects.filter(content_type=ContentType.objects.get_for_model(User), object_id=str(user_id)).exists()
    assert all(str(s.get_decoded().get("_auth_user_id")) != str(user_id) for s in Session.objects.all())
    # The practices keep their appointments, consistent and anonymous.
    kept = Booking.objects.filter(pk__in=bookings)
    assert kept.count() == len(bookings)
    assert set(kept.values_list("patient", flat=True)) == {None}
    assert Booking.objects.get(pk=world.a.booking.pk).is_active
    # Other people's data is untouched.
    assert SlotAlert.objects.filter(pk=world.b.alert.pk).exists()
    assert Booking.objects.get(pk=world.b.booking.pk).patient == world.patient2


def test_it_deletes_the_account_only_with_the_password(world, person, patient_web):
    wrong = patient_web.post(reverse("bookings:account-delete"), {"password": "not-it"})
    assert wrong.status_code == 200 and User.objects.filter(pk=person.pk).exists()

    response = patient_web.post(reverse("bookings:account-delete"), {"password": PASSWORD})

    assert response.status_code == 302 and response["Location"] == reverse("home")
    assert not User.objects.filter(pk=person.pk).exists()
    assert patient_web.get(reverse("bookings:appointments")).status_code == 302  # logged out


def test_it_deletes_only_the_sessions_and_log_entries_of_the_exact_address(world):
    from django.contrib.sessions.backends.db import SessionStore

    from tests.conftest import make_user

    anna, joanna = make_user("anna@example.org"), make_user("joanna@example.org")
    kept_sessions, kept_entries = [], []
    for user in (anna, joanna):
        # Half way through a login allauth keeps the address; a bare address must be found too.
        for data in ({"account_login": {"user_pk": user.pk, "email": user.email}},
                     {"account_verified_email": user.email.upper()}):
            session = SessionStore()
            session.update(data)
            session.create()
            if user == joanna:
                kept_sessions.append(session.session_key)
        membership = Membership.objects.create(user=user, practice=world.b.practice, role=Membership.Role.STAFF)
        for obj, message in ((user, "Edited"), (membership, "Edited"),
                             (world.b.practice, [{"added": {"name": "membership", "object": str(membership)}}])):
            entries = LogEntry.objects.log_actions(
                user_id=world.admin.pk, queryset=[obj], action_flag=CHANGE, change_message=message
            )
            if user == joanna:
                kept_entries += [entry.pk for entry in entries]

    user_delete(user=anna)

    sessions = Session.objects.all()
    assert not [s for s in sessions if '"anna@example.org"' in json.dumps(s.get_decoded()).lower()]
    assert sorted(sessions.filter(session_key__in=kept_sessions).values_list("session_key", flat=True)) == sorted(kept_sessions)
    assert sorted(LogEntry.objects.filter(pk__in=kept_entries).values_list("pk", flat=True)) == sorted(kept_entries)
    assert not LogEntry.objects.filter(object_repr__startswith="anna@").exists()
    assert not LogEntry.objects.filter(change_message__contains='"anna@').exists()
