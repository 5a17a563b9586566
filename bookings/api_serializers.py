"""Thin serializers of the API: public UUIDs only, writes go through services."""

from __future__ import annotations

from rest_framework import serializers

from practices.models import Doctor, InsuranceType, Practice, VisitReason

from .models import Booking, Slot, SlotAlert


class PracticeSerializer(serializers.ModelSerializer):
    insurance_types = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Practice
        fields = [
            "public_id", "name", "slug", "street", "postal_code", "city", "phone", "website",
            "description", "cancellation_deadline_hours", "insurance_types",
        ]


class PracticeRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Practice
        fields = ["public_id", "name", "city", "postal_code"]


class DoctorSerializer(serializers.ModelSerializer):
    practice = PracticeRefSerializer(read_only=True)
    specialty = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = Doctor
        fields = ["public_id", "title", "name", "specialty", "practice"]


class DoctorRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Doctor
        fields = ["public_id", "title", "name"]


class VisitReasonSerializer(serializers.ModelSerializer):
    practice = serializers.UUIDField(source="practice.public_id", read_only=True)
    insurance_types = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = VisitReason
        fields = [
            "public_id", "name", "name_en", "duration_minutes", "new_patients_allowed",
            "insurance_types", "practice",
        ]


class VisitReasonRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = VisitReason
        fields = ["public_id", "name"]


class SlotSerializer(serializers.ModelSerializer):
    doctor = DoctorRefSerializer(read_only=True)
    practice = PracticeRefSerializer(source="doctor.practice", read_only=True)

    class Meta:
        model = Slot
        fields = ["public_id", "starts_at", "ends_at", "doctor", "practice"]


class BookingSerializer(serializers.ModelSerializer):
    doctor = DoctorRefSerializer(read_only=True)
    practice = PracticeRefSerializer(source="doctor.practice", read_only=True)
    visit_reason = VisitReasonRefSerializer(read_only=True)
    # Blank until cancelled: the schema must list "" among the choices.
    cancelled_by = serializers.ChoiceField(choices=Booking.CancelledBy.choices, allow_blank=True, read_only=True)

    class Meta:
        model = Booking
        fields = [
            "public_id", "code", "status", "starts_at", "ends_at", "doctor", "practice",
            "visit_reason", "insurance_type", "new_patient", "note", "cancelled_by",
            "cancelled_at", "cancellation_reason", "created_at",
        ]
        read_only_fields = fields


class PatientRefSerializer(serializers.Serializer):
    full_name = serializers.CharField(read_only=True)
    email = serializers.EmailField(read_only=True)


class PracticeBookingSerializer(BookingSerializer):
    patient = PatientRefSerializer(read_only=True, allow_null=True)

    class Meta(BookingSerializer.Meta):
        fields = [*BookingSerializer.Meta.fields, "patient"]
        read_only_fields = fields


class BookingCreateSerializer(serializers.Serializer):
    slot = serializers.UUIDField()
    visit_reason = serializers.UUIDField()
    insurance_type = serializers.ChoiceField(choices=InsuranceType.choices)
    new_patient = serializers.BooleanField(default=False)
    note = serializers.CharField(allow_blank=True, max_length=500, default="")

    def validate_visit_reason(self, value):
        reason = VisitReason.objects.filter(public_id=value).first()
        if reason is None:
            raise serializers.ValidationError(
                serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"].format(pk_value=value)
            )
        return reason


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(allow_blank=True, max_length=300, default="")


class SlotAlertSerializer(serializers.ModelSerializer):
    doctor = serializers.UUIDField(source="doctor.public_id", read_only=True, allow_null=True)
    practice = serializers.UUIDField(source="practice.public_id", read_only=True, allow_null=True)
    specialty = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    visit_reason = serializers.UUIDField(source="visit_reason.public_id", read_only=True, allow_null=True)

    class Meta:
        model = SlotAlert
        fields = [
            "public_id", "doctor", "practice", "specialty", "visit_reason", "insurance_type",
            "date_from", "date_until", "is_active", "created_at",
        ]
        read_only_fields = fields


class SlotAlertCreateSerializer(serializers.Serializer):
    doctor = serializers.UUIDField(required=False, allow_null=True)
    specialty = serializers.SlugField(required=False, allow_blank=True)
    visit_reason = serializers.UUIDField(required=False, allow_null=True)
    insurance_type = serializers.ChoiceField(choices=InsuranceType.choices)
    date_from = serializers.DateField()
    date_until = serializers.DateField()

    def _resolve(self, queryset, **lookup):
        found = queryset.filter(**lookup).first()
        if found is None:
            raise serializers.ValidationError(
                serializers.PrimaryKeyRelatedField.default_error_messages["does_not_exist"].format(
                    pk_value=next(iter(lookup.values()))
                )
            )
        return found

    def validate_doctor(self, value):
        return self._resolve(Doctor.objects.select_related("practice", "specialty"), public_id=value) if value else None

    def validate_specialty(self, value):
        from practices.models import Specialty

        return self._resolve(Specialty.objects.all(), slug=value) if value else None

    def validate_visit_reason(self, value):
        return self._resolve(VisitReason.objects.all(), public_id=value) if value else None


class MembershipSerializer(serializers.Serializer):
    practice = serializers.UUIDField(source="practice.public_id")
    practice_name = serializers.CharField(source="practice.name")
    role = serializers.CharField()


class MeSerializer(serializers.Serializer):
    email = serializers.EmailField()
    full_name = serializers.CharField()
    is_platform_admin = serializers.BooleanField()
    memberships = MembershipSerializer(many=True)
