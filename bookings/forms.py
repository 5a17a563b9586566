"""Forms of the patient pages. Search parameters travel in the query string (they name no
person); everything a patient types about themselves is POSTed."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from practices.models import InsuranceType, Specialty, VisitReason
from terminfinder.accounts.models import User

from .services import NOTE_MAX_LENGTH, SLOT_ALERT_MAX_DAYS


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class SearchForm(forms.Form):
    specialty = forms.ModelChoiceField(
        label=_("Specialty"),
        queryset=Specialty.objects.all(),
        to_field_name="slug",
        required=False,
        empty_label=_("All specialties"),
    )
    place = forms.CharField(
        label=_("City or postal code"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "address-level2"}),
    )
    insurance = forms.ChoiceField(
        label=_("Insurance"), choices=InsuranceType.choices, initial=InsuranceType.STATUTORY
    )
    reason = forms.CharField(
        label=_("Visit reason"),
        max_length=100,
        required=False,
        help_text=_("For example “check-up” or “vaccination”."),
    )
    date = forms.DateField(label=_("From"), required=False, widget=DateInput())

    def clean_date(self):
        day = self.cleaned_data.get("date")
        today = timezone.localdate()
        return max(day, today) if day else today


class SlotPickerForm(forms.Form):
    """Insurance and visit reason for one doctor's week view (GET)."""

    insurance = forms.ChoiceField(label=_("Insurance"), choices=InsuranceType.choices)
    reason = forms.ModelChoiceField(
        label=_("Visit reason"), queryset=VisitReason.objects.none(), to_field_name="public_id"
    )
    new_patient = forms.BooleanField(label=_("I am a new patient of this practice"), required=False)

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["insurance"].choices = [
            (value, label) for value, label in InsuranceType.choices if practice.accepts(value)
        ]
        self.fields["reason"].queryset = practice.visit_reasons.filter(is_active=True)
        self.fields["reason"].label_from_instance = visit_reason_label


def visit_reason_label(reason: VisitReason) -> str:
    from django.utils.translation import get_language

    if (get_language() or "").startswith("en") and reason.name_en:
        return reason.name_en
    return reason.name


class BookingForm(forms.Form):
    reason = forms.ModelChoiceField(
        label=_("Visit reason"), queryset=VisitReason.objects.none(), to_field_name="public_id"
    )
    insurance = forms.ChoiceField(label=_("Insurance"), choices=InsuranceType.choices)
    new_patient = forms.BooleanField(label=_("I am a new patient of this practice"), required=False)
    note = forms.CharField(
        label=_("Note for the practice (optional)"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Only what the practice needs to prepare. At most 500 characters."),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput(), max_length=100)

    def __init__(self, *args, practice, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].queryset = practice.visit_reasons.filter(is_active=True)
        self.fields["reason"].label_from_instance = visit_reason_label
        self.fields["insurance"].choices = [
            (value, label) for value, label in InsuranceType.choices if practice.accepts(value)
        ]
        if not self.is_bound:
            self.initial.setdefault("idempotency_key", uuid.uuid4().hex)


class SlotAlertForm(forms.Form):
    date_from = forms.DateField(label=_("From"), widget=DateInput())
    date_until = forms.DateField(label=_("Until"), widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.initial.setdefault("date_from", today)
        self.initial.setdefault("date_until", today + timedelta(days=28))

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_until")
        if start and end:
            if start < timezone.localdate():
                self.add_error("date_from", _("Choose a day from today on."))
            if end < start:
                self.add_error("date_until", _("“Until” must not be before “from”."))
            elif (end - start).days > SLOT_ALERT_MAX_DAYS:
                self.add_error("date_until", _("An alert covers at most 90 days."))
        return cleaned


class AccountForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ["full_name", "phone", "date_of_birth", "language"]
        widgets = {
            "date_of_birth": DateInput(),
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "phone": forms.TextInput(attrs={"autocomplete": "tel", "type": "tel"}),
        }
        labels = {"date_of_birth": _("Date of birth (optional)")}

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born and born > timezone.localdate():
            raise forms.ValidationError(_("The date of birth cannot be in the future."))
        return born


class AccountDeleteForm(forms.Form):
    password = forms.CharField(
        label=_("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self):
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("The password is not correct."))
        return password
