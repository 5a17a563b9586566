"""Admin tenancy: every registered ModelAdmin, walked as every persona.

Nobody sees or changes another practice's objects: a member gets 404 for them (as for an id that
never existed), 403 where their role lacks the right on their own practice's object; patients and
anonymous visitors are sent to the admin login; only the platform admin sees platform data.
COVERAGE below says, per registered model, where its object lives in practice A and in B and
which roles may view, change and delete it. A new ModelAdmin without a row fails the first test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Callable

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.db.models import Model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from bookings.models import Absence, AvailabilityRule, Booking, Slot, SlotAlert
from calendars.models import CalendarConnection, CalendarFeed
from calendars.services import feed_create
from notifications.models import Delivery
from practices.models import Doctor, FAQEntry, Membership, Practice, Specialty, VisitReason
from terminfinder.accounts.models import User

PLATFORM = "platform"
OWNER, STAFF, DOCTOR = Membership.Role.OWNER, Membership.Role.STAFF, Membership.Role.DOCTOR

EVERY_ROLE = frozenset({PLATFORM, OWNER, STAFF, DOCTOR})
WRITERS = frozenset({PLATFORM, OWNER, STAFF})
OWNERS = frozenset({PLATFORM, OWNER})
PLATFORM_ONLY = frozenset({PLATFORM})
NOBODY: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Coverage:
    """How to reach the model's object of practice "a" or "b", and which roles may do what."""

    get: Callable[[object, str], Model]
    tenant: bool  # False: platform data, the same for everyone who may see it at all
    view: frozenset[str]
    change: frozenset[str]
    delete: frozenset[str]

    def allowed(self, view: str) -> frozenset[str]:
        """Roles answered 200 by `view`; a change form opens read-only for view-only roles."""
        return self.delete if view == "delete" else self.view | self.change


def tenant_data(attribute: str, *, view=EVERY_ROLE, change=WRITERS, delete=WRITERS) -> Coverage:
    def get(world, side):
        return getattr(getattr(world, side), attribute)

    return Coverage(get, True, view, change, delete)


def platform_data(get: Callable[[object, str], Model]) -> Coverage:
    return Coverage(get, False, PLATFORM_ONLY, PLATFORM_ONLY, PLATFORM_ONLY)


COVERAGE: dict[type[Model], Coverage] = {
    Group: platform_data(lambda w, side: w.group),
    User: platform_data(lambda w, side: getattr(w, f"staff_{side}")),
    # allauth's: a person's email addresses and second factors are platform data.
    EmailAddress: platform_data(lambda w, side: getattr(w, f"staff_{side}").emailaddress_set.get()),
    Authenticator: platform_data(lambda w, side: w.admin_totp),
    Specialty: platform_data(lambda w, side: w.specialty),
    SlotAlert: platform_data(lambda w, side: getattr(w, side).alert),
    # Delivery records are written by the workers only: platform admins read and prune them.
    Delivery: Coverage(lambda w, side: w.delivery, False, PLATFORM_ONLY, NOBODY, PLATFORM_ONLY),
    Practice: tenant_data("practice", change=OWNERS, delete=PLATFORM_ONLY),
    Doctor: tenant_data("doctor"),
    Membership: tenant_data("staff_membership", view=OWNERS, change=OWNERS, delete=OWNERS),
    VisitReason: tenant_data("reason"),
    FAQEntry: tenant_data("faq"),
    AvailabilityRule: tenant_data("rule"),
    Absence: tenant_data("absence"),
    Slot: tenant_data("free_slot", change=NOBODY),  # slots come from the rules
    Booking: tenant_data("booking", delete=NOBODY),  # bookings are cancelled, never deleted
    CalendarConnection: tenant_data("calendar_connection"),
    CalendarFeed: tenant_data("calendar_feed"),  # made and revoked; the change form is read-only
}


@dataclass(frozen=True)
class Persona:
    user: str | None  # attribute of the `world` fixture; None: anonymous
    role: str | None  # None: no admin access at all
    side: str | None = None  # the member's own practice


PERSONAS = {
    "platform_admin": Persona("admin", PLATFORM),
    "owner_a": Persona("owner_a", OWNER, "a"),
    "staff_a": Persona("staff_a", STAFF, "a"),
    "doctor_a": Persona("doctor_a", DOCTOR, "a"),
    "staff_b": Persona("staff_b", STAFF, "b"),
    "owner_b": Persona("owner_b", OWNER, "b"),
    "patient": Persona("patient", None),
    "anonymous": Persona(None, None),
}
OTHER_SIDE = {"a": "b", "b": "a"}


class HttpsClient(Client):
    """The production settings redirect plain HTTP; the admin is only ever used over HTTPS."""

    def generic(self, method, path, *args, secure=True, **kwargs):
        return super().generic(method, path, *args, secure=True, **kwargs)


def expected_status(persona: Persona, coverage: Coverage, view: str, side: str | None = None):
    if persona.role is None:
        return 302  # to the admin login
    if coverage.tenant and side is not None and persona.role != PLATFORM and side != persona.side:
        return 404  # another practice's object does not exist for a member
    return 200 if persona.role in coverage.allowed(view) else 403


def client_for(world, persona_name: str) -> Client:
    client = HttpsClient()
    user = PERSONAS[persona_name].user
    if user:
        client.force_login(getattr(world, user))
    return client


@pytest.fixture
def world(world):
    """The shared world plus a free (deletable) slot and the staff membership of each
    practice, and a group for the auth admin."""
    for tenant in (world.a, world.b):
        start = tenant.slot.starts_at + timedelta(days=2)
        end = start + timedelta(minutes=30)
        tenant.free_slot = Slot.objects.create(doctor=tenant.doctor, starts_at=start, ends_at=end)
        tenant.staff_membership = tenant.practice.memberships.get(role=STAFF)
        tenant.calendar_connection = CalendarConnection.objects.create(
            doctor=tenant.doctor, url="https://calendar.example.org/dav/praxis/", username="praxis"
        )
        tenant.calendar_feed, _ = feed_create(doctor=tenant.doctor)
    world.group = Group.objects.create(name="Support")
    world.delivery = Delivery.objects.create(
        kind=Delivery.Kind.BOOKING_CONFIRMATION,
        object_ref=str(world.a.booking.public_id),
        recipient_ref=f"user:{world.patient.pk}",
    )
    return world


def url(model: type[Model], view: str, obj: Model | None = None) -> str:
    name = f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}"
    return reverse(name, args=[quote(obj.pk)] if obj is not None else [])


def label(model: type[Model]) -> str:
    return model._meta.label_lower


def case_id(value) -> str:
    return label(value) if isinstance(value, type) else str(value)


def foreign_markers(world, side: str) -> list[str]:
    """Text that only a page leaking practice `side` would contain."""
    tenant = getattr(world, side)
    members = tenant.practice.memberships.values_list("user__email", flat=True)
    patient = tenant.booking.patient.full_name
    return [tenant.practice.name, tenant.practice.city, patient, tenant.booking.code, *members]


def assert_no_foreign_text(response, world, persona: Persona) -> None:
    html = response.content.decode()
    markers = foreign_markers(world, OTHER_SIDE[persona.side])
    leaked = [marker for marker in markers if marker in html]
    assert not leaked, f"page shows another practice's data: {leaked}"


def assert_sent_to_login(response) -> None:
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def snapshot(obj: Model) -> dict:
    fresh = type(obj)._default_manager.get(pk=obj.pk)
    values = {f.attname: getattr(fresh, f.attname) for f in fresh._meta.concrete_fields}
    for field in fresh._meta.many_to_many:
        values[field.name] = set(getattr(fresh, field.name).values_list("pk", flat=True))
    return values


def test_it_covers_every_registered_model_admin():
    registered = {label(model) for model in admin.site._registry}
    covered = {label(model) for model in COVERAGE}
    assert registered - covered == set(), "add these ModelAdmins to COVERAGE in this module"
    assert covered - registered == set(), "COVERAGE names models that are no longer registered"


# --- Reading: changelist, change, delete confirmation, history ----------------------------------


@pytest.mark.parametrize("model", COVERAGE, ids=label)
@pytest.mark.parametrize("persona_name", PERSONAS)
def test_it_lists_only_objects_of_the_personas_own_practice(world, persona_name, model):
    persona, coverage = PERSONAS[persona_name], COVERAGE[model]
    response = client_for(world, persona_name).get(url(model, "changelist"))

    assert response.status_code == expected_status(persona, coverage, "changelist")
    if response.status_code == 302:
        assert_sent_to_login(response)
    if response.status_code != 200:
        return
    changelist = response.context["cl"]
    listed = set(changelist.queryset.values_list("pk", flat=True))
    shown = {obj.pk for obj in changelist.result_list}
    if persona.role == PLATFORM:
        assert {coverage.get(world, "a").pk, coverage.get(world, "b").pk} <= listed & shown
        return
    own, foreign = coverage.get(world, persona.side), coverage.get(world, OTHER_SIDE[persona.side])
    assert own.pk in shown
    assert foreign.pk not in listed
    assert_no_foreign_text(response, world, persona)
    # A sidebar filter with a single choice is hidden; a leaked foreign choice would show it.
    for spec in changelist.filter_specs:
        related = getattr(getattr(spec, "field", None), "related_model", None)
        if related in COVERAGE and COVERAGE[related].tenant:
            foreign_choice = COVERAGE[related].get(world, OTHER_SIDE[persona.side]).pk
            assert foreign_choice not in {pk for pk, _ in spec.lookup_choices}, spec.title


@pytest.mark.parametrize("view", ["change", "delete", "history"])
@pytest.mark.parametrize("side", ["a", "b"])
@pytest.mark.parametrize("model", COVERAGE, ids=label)
@pytest.mark.parametrize("persona_name", PERSONAS)
def test_it_shows_an_object_only_to_its_own_practice(world, persona_name, model, side, view):
    persona, coverage = PERSONAS[persona_name], COVERAGE[model]
    response = client_for(world, persona_name).get(url(model, view, coverage.get(world, side)))

    assert response.status_code == expected_status(persona, coverage, view, side)
    if response.status_code == 302:
        assert_sent_to_login(response)
    if response.status_code != 200:
        return
    if view == "change":
        assert response.context["has_change_permission"] == (persona.role in coverage.change)
    if persona.role != PLATFORM:
        assert_no_foreign_text(response, world, persona)


# --- Autocomplete ------------------------------------------------------------------------------


def autocomplete_sources() -> list[tuple[type[Model], str]]:
    """Every relation the admin autocomplete answers for: Django serves any registered source
    model's foreign key to a registered admin with search fields, used as a widget or not."""
    sources = []
    for model in admin.site._registry:
        for field in model._meta.get_fields():
            forward = field.is_relation and not field.auto_created
            if not (forward and (field.many_to_one or field.many_to_many)):
                continue
            target = admin.site._registry.get(field.related_model)
            if target is not None and target.search_fields:
                sources.append((model, field.name))
    return sources


def autocomplete(client: Client, model: type[Model], field: str, term: str = ""):
    opts = model._meta
    params = {"app_label": opts.app_label, "model_name": opts.model_name, "field_name": field}
    return client.get(reverse("admin:autocomplete"), params | {"term": term})


def autocomplete_ids(response) -> set[str]:
    assert response.status_code == 200
    return {result["id"] for result in response.json()["results"]}


@pytest.mark.parametrize("model, field", autocomplete_sources(), ids=case_id)
@pytest.mark.parametrize("persona_name", PERSONAS)
def test_it_autocompletes_only_objects_the_persona_may_see(world, persona_name, model, field):
    persona = PERSONAS[persona_name]
    target = COVERAGE[model._meta.get_field(field).related_model]
    response = autocomplete(client_for(world, persona_name), model, field)

    assert response.status_code == expected_status(persona, target, "changelist")
    if response.status_code == 302:
        assert_sent_to_login(response)
    if response.status_code != 200:
        return
    ids = autocomplete_ids(response)
    if persona.role == PLATFORM:
        assert {str(target.get(world, "a").pk), str(target.get(world, "b").pk)} <= ids
        return
    assert str(target.get(world, persona.side).pk) in ids
    assert str(target.get(world, OTHER_SIDE[persona.side]).pk) not in ids


@pytest.mark.parametrize("model", [AvailabilityRule, Absence], ids=label)
@pytest.mark.parametrize("persona_name", ["staff_a", "staff_b"])
def test_it_autocompletes_the_doctor_of_the_own_practice_only(world, persona_name, model):
    side = PERSONAS[persona_name].side
    own, other = getattr(world, side), getattr(world, OTHER_SIDE[side])
    client = client_for(world, persona_name)

    assert autocomplete_ids(autocomplete(client, model, "doctor")) == {str(own.doctor.pk)}
    assert autocomplete_ids(autocomplete(client, model, "doctor", term=other.doctor.name)) == set()


@pytest.mark.parametrize("model", [AvailabilityRule, Absence], ids=label)
@pytest.mark.parametrize("persona_name", ["patient", "anonymous"])
def test_it_refuses_the_doctor_autocomplete_outside_the_admin(world, persona_name, model):
    assert_sent_to_login(autocomplete(client_for(world, persona_name), model, "doctor"))


# --- Writing -----------------------------------------------------------------------------------


def doctor_form(w, t):
    return {"practice": t.practice.pk, "name": "Doktor Neu", "specialty": w.specialty.pk}


def membership_form(w, t):
    return {"email": "patient@example.org", "practice": t.practice.pk, "role": DOCTOR}


def reason_form(w, t):
    flags = dict.fromkeys(["accepts_statutory", "new_patients_allowed", "is_active"], "on")
    return {"practice": t.practice.pk, "name": "Neuer Grund", "duration_minutes": 20, **flags}


def faq_form(w, t):
    text = {"question": "Parkplätze?", "answer": "Ja.", "language": "de", "position": 1}
    return {"practice": t.practice.pk, **text}


def rule_form(w, t):
    times = {"weekday": 2, "start_time": "14:00", "end_time": "16:00", "slot_minutes": 20}
    return {"doctor": t.doctor.pk, "visit_reasons": [t.reason.pk], **times}


def absence_form(w, t):
    day = (t.absence.starts_at + timedelta(days=7)).date().isoformat()
    times = {"starts_at_0": day, "starts_at_1": "08:00", "ends_at_0": day, "ends_at_1": "12:00"}
    return {"doctor": t.doctor.pk, "reason": "Urlaub", "source": Absence.Source.MANUAL, **times}


def practice_form(w, t):
    address = {"street": "Ring 2", "postal_code": t.practice.postal_code, "city": t.practice.city}
    inline = {"opening_hours-TOTAL_FORMS": 0, "opening_hours-INITIAL_FORMS": 0}
    return {"name": "Praxis Neu", "cancellation_deadline_hours": 12, **address, **inline}


def connection_form(w, t):
    inline = {"pushed_events-TOTAL_FORMS": 0, "pushed_events-INITIAL_FORMS": 0}
    fields = {"provider": "caldav", "url": "https://cal.example.org/remote.php/dav/calendars/x/", "username": "x"}
    return {"doctor": t.doctor.pk, "direction": "both", "is_active": "on", "secret": "", **fields, **inline}


# Model → a valid admin form of practice `t`; the writer is the owner where the role demands it.
FORMS = {
    Practice: (practice_form, "owner"),
    Doctor: (doctor_form, "staff"),
    Membership: (membership_form, "owner"),
    VisitReason: (reason_form, "staff"),
    FAQEntry: (faq_form, "staff"),
    AvailabilityRule: (rule_form, "staff"),
    Absence: (absence_form, "staff"),
    CalendarConnection: (connection_form, "staff"),
}
# The form field that points into a practice, per model (two for the availability rule).
PRACTICE_FIELDS = [
    (Doctor, "practice"),
    (Membership, "practice"),
    (VisitReason, "practice"),
    (FAQEntry, "practice"),
    (AvailabilityRule, "doctor"),
    (AvailabilityRule, "visit_reasons"),
    (Absence, "doctor"),
    (CalendarConnection, "doctor"),
]
FORM_MODELS = list(dict.fromkeys(model for model, _ in PRACTICE_FIELDS))


def form_errors(response):
    return response.context and response.context["adminform"].form.errors


@pytest.mark.parametrize("model", FORMS, ids=label)
@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a"])
def test_it_answers_404_to_a_change_posted_to_another_practices_object(world, persona_name, model):
    form, _ = FORMS[model]
    target = COVERAGE[model].get(world, "b")
    before = snapshot(target)
    client = client_for(world, persona_name)

    response = client.post(url(model, "change", target), form(world, world.b))

    assert response.status_code == 404
    assert snapshot(target) == before


@pytest.mark.parametrize("model", FORMS, ids=label)
def test_it_saves_the_same_change_posted_by_the_own_practice(world, model):
    """The control for the 404 above: the very same form is valid for practice B's owner."""
    form, _ = FORMS[model]
    target = COVERAGE[model].get(world, "b")
    before = snapshot(target)

    response = client_for(world, "owner_b").post(url(model, "change", target), form(world, world.b))

    assert response.status_code == 302, form_errors(response)
    assert snapshot(target) != before


def post_form(world, model: type[Model], view: str, data: dict):
    """Practice A's writer posts `data` to the add form, or to the change form of A's object."""
    _, writer = FORMS[model]
    obj = COVERAGE[model].get(world, "a") if view == "change" else None
    return client_for(world, f"{writer}_a").post(url(model, view, obj), data)


def state(world, model: type[Model]) -> tuple[int, dict]:
    return model._default_manager.count(), snapshot(COVERAGE[model].get(world, "a"))


@pytest.mark.parametrize("view", ["add", "change"])
@pytest.mark.parametrize("model, field", PRACTICE_FIELDS, ids=case_id)
def test_it_rejects_a_choice_from_another_practice(world, model, field, view):
    form, _ = FORMS[model]
    data = form(world, world.a) | {field: form(world, world.b)[field]}
    before = state(world, model)

    response = post_form(world, model, view, data)

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors.as_data()
    assert [error.code for error in errors.get(field, [])] == ["invalid_choice"], errors
    assert state(world, model) == before


@pytest.mark.parametrize("view", ["add", "change"])
@pytest.mark.parametrize("model", FORM_MODELS, ids=label)
def test_it_accepts_the_same_form_with_choices_of_the_own_practice(world, model, view):
    """The control for the rejection above: only the foreign choice made the form invalid."""
    form, _ = FORMS[model]
    count, before = state(world, model)

    response = post_form(world, model, view, form(world, world.a))

    assert response.status_code == 302, form_errors(response)
    assert state(world, model) != (count, before)


def opening_hours_row(world, hours) -> dict:
    """Practice A's form with one inline row that edits the given opening hours."""
    row = {"id": hours.pk, "practice": world.a.practice.pk, "weekday": 1}
    row |= {"opens": "07:00", "closes": "09:00"}
    inline = {f"opening_hours-0-{name}": value for name, value in row.items()}
    management = {"opening_hours-TOTAL_FORMS": 1, "opening_hours-INITIAL_FORMS": 1}
    return practice_form(world, world.a) | inline | management


@pytest.mark.parametrize("side", ["b", "a"], ids=["foreign", "own"])
def test_it_edits_only_opening_hours_of_the_own_practice_inline(world, side):
    hours = getattr(world, side).opening_hours
    before, count = snapshot(hours), type(hours).objects.count()
    client, data = client_for(world, "owner_a"), opening_hours_row(world, hours)

    client.post(url(Practice, "change", world.a.practice), data)

    # Django's inline formset ignores a row whose id is not among the parent's rows.
    assert (snapshot(hours) != before) == (side == "a")
    assert type(hours).objects.count() == count


FORM_VIEWS = [
    (persona_name, model, view)
    for persona_name in ("owner_a", "staff_a")
    for model in FORM_MODELS
    for view in ("add", "change")
    if STAFF in COVERAGE[model].change or persona_name == "owner_a"
]


@pytest.mark.parametrize("persona_name, model, view", FORM_VIEWS, ids=case_id)
def test_it_offers_no_choices_of_another_practice_in_forms(world, persona_name, model, view):
    obj = COVERAGE[model].get(world, "a") if view == "change" else None
    response = client_for(world, persona_name).get(url(model, view, obj))

    assert response.status_code == 200
    form = response.context["adminform"].form
    practice_bound = {
        name: (field.queryset, COVERAGE[field.queryset.model])
        for name, field in form.fields.items()
        if getattr(field, "queryset", None) is not None
        and field.queryset.model in COVERAGE
        and COVERAGE[field.queryset.model].tenant
    }
    assert practice_bound, "the form has no practice-bound choice to check"
    for name, (choices, coverage) in practice_bound.items():
        assert choices.filter(pk=coverage.get(world, "a").pk).exists(), name
        assert not choices.filter(pk=coverage.get(world, "b").pk).exists(), name
    assert_no_foreign_text(response, world, PERSONAS[persona_name])


# --- Actions and deleting ----------------------------------------------------------------------

# Objects practice staff may delete (doctors and visit reasons of the world are held by bookings).
DELETABLE = [Membership, FAQEntry, AvailabilityRule, Absence, Slot, CalendarConnection, CalendarFeed]


def post_action(client: Client, model: type[Model], action: str, objects: list[Model]):
    data = {"action": action, "_selected_action": [obj.pk for obj in objects], "post": "yes"}
    return client.post(url(model, "changelist"), data)


def exists(obj: Model) -> bool:
    return type(obj)._default_manager.filter(pk=obj.pk).exists()


@pytest.mark.parametrize("model", DELETABLE, ids=label)
@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a"])
def test_it_deletes_nothing_of_another_practice_via_delete_selected(world, persona_name, model):
    target = COVERAGE[model].get(world, "b")

    post_action(client_for(world, persona_name), model, "delete_selected", [target])

    assert exists(target)


@pytest.mark.parametrize("model", DELETABLE, ids=label)
def test_it_deletes_via_delete_selected_within_the_own_practice(world, model):
    """The control for the test above: the same action deletes for practice B's owner."""
    target = COVERAGE[model].get(world, "b")

    response = post_action(client_for(world, "owner_b"), model, "delete_selected", [target])

    assert response.status_code == 302
    assert not exists(target)


@pytest.mark.parametrize("model", DELETABLE, ids=label)
@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a"])
def test_it_answers_404_to_a_delete_posted_for_another_practices_object(world, persona_name, model):
    target = COVERAGE[model].get(world, "b")

    response = client_for(world, persona_name).post(url(model, "delete", target), {"post": "yes"})

    assert response.status_code == 404
    assert exists(target)


@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a"])
def test_it_cancels_no_booking_of_another_practice(world, persona_name):
    post_action(client_for(world, persona_name), Booking, "cancel_bookings", [world.b.booking])

    assert Booking.objects.get(pk=world.b.booking.pk).status == Booking.Status.CONFIRMED


def test_it_cancels_a_booking_of_the_own_practice(world):
    post_action(client_for(world, "staff_b"), Booking, "cancel_bookings", [world.b.booking])

    assert Booking.objects.get(pk=world.b.booking.pk).status == Booking.Status.CANCELLED


# --- Verifying doctors: platform admins only ---------------------------------------------------

VERIFICATION_ACTIONS = {"verify_doctors", "reject_doctors"}


@pytest.fixture
def pending_doctor(world) -> Doctor:
    practice, specialty = world.a.practice, world.specialty
    return Doctor.objects.create(practice=practice, specialty=specialty, name="Dr. Neu")


def offered_actions(client: Client) -> set[str]:
    response = client.get(url(Doctor, "changelist"))
    assert response.status_code == 200
    action_form = response.context["action_form"]  # None when the user has no action at all
    return {name for name, _ in action_form.fields["action"].choices} if action_form else set()


@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a", "doctor_a", "staff_b"])
def test_it_offers_the_verification_actions_to_nobody_but_the_platform_admin(world, persona_name):
    assert VERIFICATION_ACTIONS <= offered_actions(client_for(world, "platform_admin"))
    assert offered_actions(client_for(world, persona_name)) & VERIFICATION_ACTIONS == set()


@pytest.mark.parametrize("action", sorted(VERIFICATION_ACTIONS))
@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a"])
def test_it_ignores_a_verification_action_posted_by_practice_staff(
    world, pending_doctor, persona_name, action
):
    post_action(client_for(world, persona_name), Doctor, action, [pending_doctor])

    pending_doctor.refresh_from_db()
    assert pending_doctor.verification_status == Doctor.Verification.PENDING
    assert (pending_doctor.verified_by, pending_doctor.verified_at) == (None, None)


@pytest.mark.parametrize("persona_name", ["owner_a", "staff_a"])
def test_it_keeps_the_verification_read_only_in_the_change_form(world, pending_doctor, persona_name):
    decision = {"verification_status": "verified", "verified_by": world.staff_a.pk}
    data = doctor_form(world, world.a) | decision

    response = client_for(world, persona_name).post(url(Doctor, "change", pending_doctor), data)

    assert response.status_code == 302  # the rest of the form was saved
    pending_doctor.refresh_from_db()
    assert pending_doctor.name == "Doktor Neu"
    assert pending_doctor.verification_status == Doctor.Verification.PENDING
    assert pending_doctor.verified_by is None


@pytest.mark.parametrize(
    "action, status",
    [("verify_doctors", "verified"), ("reject_doctors", "rejected")],
)
def test_it_records_who_decided_a_verification_and_when(world, pending_doctor, action, status):
    response = post_action(client_for(world, "platform_admin"), Doctor, action, [pending_doctor])

    assert response.status_code == 302
    pending_doctor.refresh_from_db()
    assert pending_doctor.verification_status == status
    assert pending_doctor.verified_by == world.admin
    assert timezone.now() - pending_doctor.verified_at < timedelta(minutes=1)
