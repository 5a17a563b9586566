"""Patient pages around the account: slot alerts ("notify me") and the account itself
(personal details, data export, deletion)."""

from __future__ import annotations

import json
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from practices.models import Doctor, InsuranceType, Specialty
from terminfinder.accounts.services import user_delete, user_export_data

from .errors import BookingError
from .forms import AccountDeleteForm, AccountForm, SlotAlertForm
from .models import SlotAlert
from .selectors import slot_alerts_for_patient
from .services import slot_alert_create, slot_alert_end


def _uuid_or_none(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


@login_required
def alerts(request):
    return render(request, "bookings/alerts.html", {"alerts": slot_alerts_for_patient(patient=request.user)})


@login_required
@require_http_methods(["GET", "POST"])
def alert_new(request):
    """What the alert is about comes from the query string (doctor or specialty, insurance,
    visit reason: no personal data); the period is POSTed."""
    doctor_id = _uuid_or_none(request.GET.get("doctor"))
    doctor = (
        get_object_or_404(Doctor.objects.select_related("practice", "specialty"), public_id=doctor_id)
        if doctor_id
        else None
    )
    specialty = None
    if doctor is None:
        specialty = Specialty.objects.filter(slug=request.GET.get("specialty", "")).first()
        if specialty is None:
            raise Http404
    insurance = request.GET.get("insurance", "")
    if insurance not in InsuranceType.values:
        insurance = InsuranceType.STATUTORY
    reason = None
    reason_id = _uuid_or_none(request.GET.get("reason"))
    if doctor is not None and reason_id:
        reason = doctor.practice.visit_reasons.filter(public_id=reason_id).first()

    form = SlotAlertForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            slot_alert_create(
                patient=request.user,
                doctor=doctor,
                specialty=specialty,
                visit_reason=reason,
                insurance_type=insurance,
                date_from=form.cleaned_data["date_from"],
                date_until=form.cleaned_data["date_until"],
            )
        except BookingError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("We will let you know by email when a matching appointment becomes free."))
            return redirect("bookings:alerts")
    context = {
        "form": form,
        "doctor": doctor,
        "specialty": specialty,
        "reason": reason,
        "insurance_label": InsuranceType(insurance).label,
    }
    return render(request, "bookings/alert_new.html", context)


@login_required
@require_POST
def alert_end(request, public_id):
    alert = get_object_or_404(SlotAlert, public_id=public_id, patient=request.user)
    slot_alert_end(alert=alert, patient=request.user)
    messages.success(request, _("The appointment alert has ended."))
    return redirect("bookings:alerts")


def _language_cookie(response, language: str):
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account(request):
    form = AccountForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        translation.activate(user.language)
        messages.success(request, _("Your details are saved."))
        return _language_cookie(redirect("bookings:account"), user.language)
    return render(request, "bookings/account.html", {"form": form})


@login_required
@require_POST
def account_export(request):
    data = user_export_data(user=request.user)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2), content_type="application/json; charset=utf-8"
    )
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="terminfinder-daten-{stamp}.json"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def account_delete(request):
    form = AccountDeleteForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        user_delete(user=user)
        messages.success(request, _("Your account and your personal data are deleted."))
        return redirect("home")
    return render(request, "bookings/account_delete.html", {"form": form})
