from datetime import timedelta

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from practices.admin_scoping import PlatformAdmin, TenantAdmin, register_tenant_model

from .errors import BookingError
from .models import Absence, AvailabilityRule, Booking, Slot, SlotAlert
from .services import absence_delete, absence_save, booking_cancel, slots_generate

register_tenant_model(AvailabilityRule, "doctor__practice")
register_tenant_model(Absence, "doctor__practice")
register_tenant_model(Slot, "doctor__practice")
register_tenant_model(Booking, "doctor__practice")


def _regenerate(doctors) -> None:
    today = timezone.localdate()
    slots_generate(
        date_from=today,
        date_until=today + timedelta(weeks=settings.TERMINFINDER_BOOKING_HORIZON_WEEKS),
        doctors=doctors,
    )


class AvailabilityRuleForm(forms.ModelForm):
    class Meta:
        model = AvailabilityRule
        fields = "__all__"

    def clean(self):
        cleaned = super().clean()
        doctor = cleaned.get("doctor")
        reasons = cleaned.get("visit_reasons") or []
        if doctor and any(reason.practice_id != doctor.practice_id for reason in reasons):
            raise ValidationError(_("Choose only visit reasons of the doctor's own practice."))
        return cleaned


@admin.register(AvailabilityRule)
class AvailabilityRuleAdmin(TenantAdmin):
    practice_path = "doctor__practice"
    form = AvailabilityRuleForm
    list_display = ("doctor", "weekday", "start_time", "end_time", "slot_minutes", "valid_from", "valid_until")
    list_filter = ("weekday", ("doctor", admin.RelatedOnlyFieldListFilter))
    search_fields = ("doctor__name",)
    autocomplete_fields = ("doctor",)
    filter_horizontal = ("visit_reasons",)
    list_select_related = ("doctor",)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        _regenerate([form.instance.doctor])
        self.message_user(request, _("Slots were updated for the booking horizon."), messages.INFO)

    def delete_model(self, request, obj):
        doctor = obj.doctor
        super().delete_model(request, obj)
        _regenerate([doctor])

    def delete_queryset(self, request, queryset):
        doctors = list({rule.doctor for rule in queryset.select_related("doctor")})
        super().delete_queryset(request, queryset)
        _regenerate(doctors)


@admin.register(Absence)
class AbsenceAdmin(TenantAdmin):
    practice_path = "doctor__practice"
    list_display = ("doctor", "starts_at", "ends_at", "reason", "source")
    list_filter = ("source", ("doctor", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "starts_at"
    search_fields = ("doctor__name", "reason")
    autocomplete_fields = ("doctor",)
    list_select_related = ("doctor",)

    def save_model(self, request, obj, form, change):
        if not self._allowed(request, self.write_roles, obj):
            raise PermissionDenied
        previous = None
        if change and {"starts_at", "ends_at"} & set(form.changed_data):
            previous = (form.initial.get("starts_at"), form.initial.get("ends_at"))
        absence_save(absence=obj, previous=previous if previous and all(previous) else None)

    def delete_model(self, request, obj):
        absence_delete(absence=obj)

    def delete_queryset(self, request, queryset):
        for absence in queryset.select_related("doctor"):
            absence_delete(absence=absence)


class BookedFilter(admin.SimpleListFilter):
    title = _("booked")
    parameter_name = "booked"

    def lookups(self, request, model_admin):
        return (("yes", _("Booked")), ("no", _("Free")))

    def queryset(self, request, queryset):
        active = {"bookings__status": Booking.Status.CONFIRMED}
        if self.value() == "yes":
            return queryset.filter(**active).distinct()
        if self.value() == "no":
            return queryset.exclude(**active)
        return queryset


@admin.register(Slot)
class SlotAdmin(TenantAdmin):
    """Slots come from the rules; staff look at them and may remove a free one."""

    practice_path = "doctor__practice"
    list_display = ("starts_at", "ends_at", "doctor")
    list_filter = (BookedFilter, ("doctor", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "starts_at"
    search_fields = ("doctor__name",)
    list_select_related = ("doctor",)
    readonly_fields = ("doctor", "starts_at", "ends_at", "rule")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.bookings.exists():
            return False
        return super().has_delete_permission(request, obj)


@admin.register(Booking)
class BookingAdmin(TenantAdmin):
    """Bookings are made by patients; the practice reads them and cancels with a reason."""

    practice_path = "doctor__practice"
    list_display = ("starts_at", "doctor", "visit_reason", "patient_name", "status", "code")
    list_filter = ("status", "insurance_type", ("doctor", admin.RelatedOnlyFieldListFilter))
    date_hierarchy = "starts_at"
    search_fields = ("patient__email", "patient__full_name", "public_id")
    list_select_related = ("doctor", "visit_reason", "patient")
    actions = ["cancel_bookings"]
    fields = (
        "code",
        "doctor",
        "starts_at",
        "ends_at",
        "patient",
        "insurance_type",
        "visit_reason",
        "new_patient",
        "note",
        "status",
        "cancelled_by",
        "cancelled_at",
        "cancellation_reason",
        "created_at",
    )
    readonly_fields = fields

    @admin.display(description=_("patient"))
    def patient_name(self, obj):
        if obj.patient is None:
            return _("(deleted account)")
        return obj.patient.get_full_name()

    @admin.display(description=_("booking code"))
    def code(self, obj):
        return obj.code

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Cancel selected bookings (by the practice)"), permissions=["change"])
    def cancel_bookings(self, request, queryset):
        cancelled = 0
        for booking in queryset.filter(status=Booking.Status.CONFIRMED):
            try:
                booking_cancel(
                    booking=booking,
                    cancelled_by=Booking.CancelledBy.PRACTICE,
                    actor=request.user,
                    reason=str(_("Cancelled by the practice")),
                )
                cancelled += 1
            except BookingError as error:
                self.message_user(request, error.message, messages.ERROR)
        self.message_user(
            request,
            ngettext("%d booking cancelled.", "%d bookings cancelled.", cancelled) % cancelled,
            messages.SUCCESS,
        )


@admin.register(SlotAlert)
class SlotAlertAdmin(PlatformAdmin):
    list_display = ("public_id", "date_from", "date_until", "insurance_type", "is_active", "notified_at")
    list_filter = ("is_active", "insurance_type")
    readonly_fields = ("patient",)
