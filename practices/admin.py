from django import forms
from django.db import models
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .admin_scoping import OWNER, PlatformAdmin, TenantAdmin, TenantInline
from .models import Doctor, FAQEntry, Membership, OpeningHours, Practice, Specialty, VisitReason
from .services import doctor_set_verification
from .tenancy import is_platform_admin


@admin.register(Specialty)
class SpecialtyAdmin(PlatformAdmin):
    list_display = ("name", "name_en", "slug")
    search_fields = ("name", "name_en")
    prepopulated_fields = {"slug": ("name",)}


class OpeningHoursInline(TenantInline, admin.TabularInline):
    model = OpeningHours
    extra = 0
    write_roles = frozenset({OWNER})


@admin.register(Practice)
class PracticeAdmin(TenantAdmin):
    practice_path = ""
    write_roles = frozenset({OWNER})
    add_roles = delete_roles = frozenset()  # platform admins only
    inlines = [OpeningHoursInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("name", "city", "postal_code", "phone", "is_active")
    list_filter = ("is_active", "city")
    search_fields = ("name", "city", "postal_code")
    prepopulated_fields = {"slug": ("name",)}
    fieldsets = (
        (None, {"fields": ("name", "slug", "description", "is_active")}),
        (_("Address and contact"), {"fields": ("street", "postal_code", "city", "phone", "email", "website")}),
        (_("Insurance accepted"), {"fields": ("accepts_statutory", "accepts_private", "accepts_self_pay")}),
        (_("Booking rules"), {"fields": ("cancellation_deadline_hours",)}),
    )

    def get_readonly_fields(self, request, obj=None):
        if is_platform_admin(request.user):
            return ()
        return ("slug", "is_active")

    def get_prepopulated_fields(self, request, obj=None):
        # The slug is read-only for owners; prepopulating a read-only field breaks the form.
        if is_platform_admin(request.user):
            return super().get_prepopulated_fields(request, obj)
        return {}


@admin.register(Doctor)
class DoctorAdmin(TenantAdmin):
    practice_path = "practice"
    list_display = ("__str__", "practice", "specialty", "verification_status", "verified_at")
    list_filter = (
        "verification_status",
        ("specialty", admin.RelatedOnlyFieldListFilter),
        ("practice", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("name", "email", "practice__name")
    list_select_related = ("practice", "specialty")
    actions = ["verify_doctors", "reject_doctors"]
    verification_fields = ("verification_status", "verified_at", "verified_by")

    def get_readonly_fields(self, request, obj=None):
        # The decision is an action of platform admins, with who and when recorded.
        return self.verification_fields

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not is_platform_admin(request.user):
            actions.pop("verify_doctors", None)
            actions.pop("reject_doctors", None)
        return actions

    def _decide(self, request, queryset, status):
        count = 0
        for doctor in queryset:
            doctor_set_verification(doctor=doctor, status=status, decided_by=request.user)
            count += 1
        return count

    @admin.action(description=_("Verify selected doctors"))
    def verify_doctors(self, request, queryset):
        count = self._decide(request, queryset, Doctor.Verification.VERIFIED)
        self.message_user(
            request,
            ngettext("%d doctor verified.", "%d doctors verified.", count) % count,
            messages.SUCCESS,
        )

    @admin.action(description=_("Reject selected doctors"))
    def reject_doctors(self, request, queryset):
        count = self._decide(request, queryset, Doctor.Verification.REJECTED)
        self.message_user(
            request,
            ngettext("%d doctor rejected.", "%d doctors rejected.", count) % count,
            messages.WARNING,
        )


class MembershipForm(forms.ModelForm):
    """Owners add colleagues by email address: no list of all users is ever shown to them."""

    email = forms.EmailField(label=_("Email address of the user"))

    class Meta:
        model = Membership
        fields = ("practice", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["email"].initial = self.instance.user.email
            self.fields["email"].disabled = True

    def clean_email(self):
        email = self.cleaned_data["email"]
        if self.instance.pk:
            return self.instance.user.email
        try:
            self.instance.user = get_user_model().objects.get(email__iexact=email)
        except get_user_model().DoesNotExist:
            raise forms.ValidationError(
                _("No account uses this email address. Ask the person to sign up first.")
            ) from None
        return email

    def clean(self):
        cleaned = super().clean()
        practice = cleaned.get("practice")
        if practice and self.instance.user_id and not self.instance.pk:
            if Membership.objects.filter(user_id=self.instance.user_id, practice=practice).exists():
                raise forms.ValidationError(_("This person is already a member of the practice."))
        return cleaned


@admin.register(Membership)
class MembershipAdmin(TenantAdmin):
    practice_path = "practice"
    view_roles = write_roles = frozenset({OWNER})
    form = MembershipForm
    list_display = ("user", "practice", "role", "created_at")
    list_filter = ("role", ("practice", admin.RelatedOnlyFieldListFilter))
    search_fields = ("user__email", "user__full_name")
    list_select_related = ("user", "practice")

    def get_fields(self, request, obj=None):
        return ("email", "practice", "role")


@admin.register(VisitReason)
class VisitReasonAdmin(TenantAdmin):
    practice_path = "practice"
    list_display = (
        "name",
        "practice",
        "duration_minutes",
        "accepts_statutory",
        "accepts_private",
        "accepts_self_pay",
        "new_patients_allowed",
        "is_active",
    )
    list_filter = ("is_active", "new_patients_allowed", ("practice", admin.RelatedOnlyFieldListFilter))
    search_fields = ("name", "name_en")
    list_select_related = ("practice",)


@admin.register(FAQEntry)
class FAQEntryAdmin(TenantAdmin):
    """Staff keep their FAQ here: the practice page lists it and the chatbot answers from it."""

    practice_path = "practice"
    list_display = ("question", "practice", "language", "keywords", "position")
    list_editable = ("position",)
    list_filter = ("language", ("practice", admin.RelatedOnlyFieldListFilter))
    search_fields = ("question", "answer", "keywords")
    list_select_related = ("practice",)
    ordering = ("practice__name", "language", "position", "id")
    fieldsets = (
        (None, {"fields": ("practice", "language", "question", "answer")}),
        (
            _("Chatbot"),
            {
                "fields": ("keywords", "position"),
                "description": _(
                    "The chatbot answers visitors with the entry whose keywords and question best match theirs, "
                    "in the visitor's language: write one entry per language and add the words patients use "
                    "(e.g. parken, Parkplatz, Auto). Never put personal or medical details in an answer."
                ),
            },
        ),
    )
