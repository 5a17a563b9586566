"""Patient pages: search, a doctor's week of slots, booking, my appointments and cancelling.

Views validate input and call services and selectors; ids in URLs are public UUIDs, and what a
patient writes about themselves is only ever POSTed.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from practices.models import Doctor

from .errors import BookingClosed, BookingError, InvalidBooking, SlotTaken
from .forms import BookingForm, SearchForm, SlotPickerForm
from .ics import booking_calendar
from .models import Booking, Slot
from .selectors import (
    booking_for_patient,
    bookings_upcoming_and_past,
    doctors_with_next_slots,
    slots_by_day,
    slots_free,
    week_start,
)
from .services import booking_cancel, booking_create


def home(request):
    return render(request, "home.html", {"search_form": SearchForm()})


def search(request):
    form = SearchForm(request.GET or None)
    results = None
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        results = doctors_with_next_slots(
            specialty=data["specialty"],
            place=data["place"],
            insurance_type=data["insurance"],
            reason_text=data["reason"],
            date_from=data["date"],
        )
    return render(request, "bookings/search.html", {"form": form, "results": results})


def _query(**params) -> str:
    return urlencode({key: value for key, value in params.items() if value not in (None, "", False)})


def _picker_params(form) -> dict:
    data = form.cleaned_data
    return {
        "insurance": data["insurance"],
        "reason": data["reason"].public_id,
        "new_patient": "on" if data.get("new_patient") else "",
    }


def doctor_slots(request, public_id):
    doctor = get_object_or_404(
        Doctor.objects.select_related("practice", "specialty"),
        public_id=public_id,
        verification_status=Doctor.Verification.VERIFIED,
        practice__is_active=True,
    )
    practice = doctor.practice
    form = SlotPickerForm(request.GET or None, practice=practice)
    today = timezone.localdate()
    horizon = today + timedelta(weeks=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS)
    try:
        monday = week_start(date.fromisoformat(request.GET.get("week", "")))
    except ValueError:
        monday = week_start(today)
    monday = min(max(monday, week_start(today)), week_start(horizon))
    context = {"doctor": doctor, "practice": practice, "form": form, "monday": monday}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        filters = dict(
            doctor=doctor,
            insurance_type=data["insurance"],
            visit_reason=data["reason"],
            new_patient=data["new_patient"],
        )
        if not request.GET.get("week"):
            # Without a chosen week, open the week of the next free appointment.
            first = slots_free(date_until=horizon, **filters).first()
            if first is not None:
                monday = week_start(timezone.localdate(first.starts_at))
            context["monday"] = monday
        week = list(slots_free(date_from=monday, date_until=monday + timedelta(days=6), **filters))
        params = _picker_params(form)
        next_free = None
        if not week:
            next_free = slots_free(date_from=monday + timedelta(days=7), **filters).first()
        context.update(
            days=slots_by_day(week, monday),
            params=_query(**params),
            previous_week=_query(**params, week=monday - timedelta(days=7)) if monday > week_start(today) else None,
            next_week=_query(**params, week=monday + timedelta(days=7)) if monday < week_start(horizon) else None,
            next_free=next_free,
            next_free_week=_query(**params, week=week_start(timezone.localdate(next_free.starts_at))) if next_free else None,
            alert_query=_query(doctor=doctor.public_id, insurance=data["insurance"], reason=data["reason"].public_id),
        )
    return render(request, "bookings/doctor_slots.html", context)


def _fresh_slots(slot: Slot, *, insurance_type: str, visit_reason, new_patient: bool) -> list[Slot]:
    return list(
        slots_free(
            doctor=slot.doctor,
            insurance_type=insurance_type,
            visit_reason=visit_reason,
            new_patient=new_patient,
        )[:6]
    )


@login_required
@require_http_methods(["GET", "POST"])
def book(request, public_id):
    slot = get_object_or_404(Slot.objects.select_related("doctor__practice", "doctor__specialty"), public_id=public_id)
    practice = slot.doctor.practice
    if request.method == "POST":
        form = BookingForm(request.POST, practice=practice)
    else:
        reason_id = request.GET.get("reason", "")
        reason = practice.visit_reasons.filter(public_id=reason_id).first() if _is_uuid(reason_id) else None
        initial = {
            "insurance": request.GET.get("insurance"),
            "new_patient": bool(request.GET.get("new_patient")),
            "reason": reason.public_id if reason else None,
        }
        form = BookingForm(initial=initial, practice=practice)
    context = {"slot": slot, "doctor": slot.doctor, "practice": practice, "form": form}
    status = 200
    if request.method == "GET" and not slots_free(doctor=slot.doctor).filter(pk=slot.pk).exists():
        # Taken (or past) since the list was shown: say so at once, with fresh slots.
        reason = form.initial.get("reason") and practice.visit_reasons.filter(public_id=form.initial["reason"]).first()
        insurance = request.GET.get("insurance", "")
        context["taken"] = SlotTaken.default_message
        context["fresh_slots"] = _fresh_slots(
            slot, insurance_type=insurance if insurance in practice.insurance_types else "", visit_reason=reason or None,
            new_patient=bool(request.GET.get("new_patient")),
        )
        context["params"] = _query(
            insurance=insurance, reason=reason.public_id if reason else "", new_patient=request.GET.get("new_patient", "")
        )
        return render(request, "bookings/book.html", context, status=409)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            booking = booking_create(
                patient=request.user,
                slot=slot,
                visit_reason=data["reason"],
                insurance_type=data["insurance"],
                new_patient=data["new_patient"],
                note=data["note"],
                idempotency_key=data["idempotency_key"],
            )
        except InvalidBooking as error:
            form.add_error(None, error.message)
            status = 400
        except (SlotTaken, BookingClosed) as error:
            context["taken"] = error.message
            context["fresh_slots"] = _fresh_slots(
                slot, insurance_type=data["insurance"], visit_reason=data["reason"], new_patient=data["new_patient"]
            )
            context["params"] = _query(
                insurance=data["insurance"], reason=data["reason"].public_id, new_patient="on" if data["new_patient"] else ""
            )
            status = error.http_status
        except BookingError as error:
            form.add_error(None, error.message)
            status = error.http_status
        else:
            messages.success(request, _("Your appointment is booked."))
            return redirect("bookings:appointment", public_id=booking.public_id)
    return render(request, "bookings/book.html", context, status=status)


def _is_uuid(value) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


def _own_booking(request, public_id) -> Booking:
    booking = booking_for_patient(patient=request.user, public_id=public_id)
    if booking is None:
        raise Http404
    return booking


def _cancel_deadline(booking: Booking):
    return booking.starts_at - timedelta(hours=booking.doctor.practice.cancellation_deadline_hours)


@login_required
def appointments(request):
    upcoming, past = bookings_upcoming_and_past(patient=request.user)
    return render(request, "bookings/appointments.html", {"upcoming": upcoming, "past": past})


@login_required
def appointment(request, public_id):
    booking = _own_booking(request, public_id)
    return render(
        request,
        "bookings/appointment.html",
        {
            "booking": booking,
            "practice": booking.doctor.practice,
            "deadline": _cancel_deadline(booking),
            "can_cancel": booking.is_active and timezone.now() <= _cancel_deadline(booking),
            "is_upcoming": booking.is_active and booking.starts_at > timezone.now(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def appointment_cancel(request, public_id):
    booking = _own_booking(request, public_id)
    if not booking.is_active:
        messages.info(request, _("This appointment is already cancelled."))
        return redirect("bookings:appointment", public_id=booking.public_id)
    deadline = _cancel_deadline(booking)
    context = {"booking": booking, "practice": booking.doctor.practice, "deadline": deadline}
    if request.method == "POST":
        try:
            booking_cancel(booking=booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=request.user)
        except BookingClosed:
            context["too_late"] = True
            return render(request, "bookings/appointment_cancel.html", context, status=400)
        messages.success(request, _("Your appointment is cancelled."))
        return redirect("bookings:appointments")
    context["too_late"] = timezone.now() > deadline
    return render(request, "bookings/appointment_cancel.html", context)


@login_required
def appointment_ics(request, public_id):
    booking = _own_booking(request, public_id)
    response = HttpResponse(
        booking_calendar(booking, method="PUBLISH" if booking.is_active else "CANCEL"),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = f'attachment; filename="termin-{booking.code}.ics"'
    response["Cache-Control"] = "no-store"
    return response
