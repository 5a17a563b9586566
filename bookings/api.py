"""The REST API (`/api/`): patients search, book, cancel and set slot alerts; practice staff
see and cancel their own practice's bookings and slots.

Views are thin: reads through selectors and practices.tenancy, writes through services. Public
UUIDs in URLs and payloads. Another patient's or practice's object does not exist (404).
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.views import TokenObtainPairView

from practices.models import INSURANCE_FLAG, Doctor, InsuranceType, Membership, Practice, Specialty, VisitReason
from practices.tenancy import is_platform_admin, scope_queryset

from . import api_serializers as s
from .models import Booking, Slot, SlotAlert
from .selectors import bookings_for_patient, slot_alerts_for_patient, slots_free
from .services import booking_cancel, booking_create, slot_alert_create, slot_alert_end


class PublicReadOnly(viewsets.ReadOnlyModelViewSet):
    permission_classes = [permissions.AllowAny]
    lookup_field = "public_id"


# --- Search (public) ---------------------------------------------------------------------


class PracticeFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(method="filter_q", label="name or city")
    city = django_filters.CharFilter(field_name="city", lookup_expr="iexact")
    postal_code = django_filters.CharFilter(field_name="postal_code", lookup_expr="startswith")
    insurance = django_filters.ChoiceFilter(choices=InsuranceType.choices, method="filter_insurance")
    specialty = django_filters.CharFilter(method="filter_specialty")

    class Meta:
        model = Practice
        fields = ["q", "city", "postal_code", "insurance", "specialty"]

    def filter_q(self, queryset, name, value):
        return queryset.filter(Q(name__icontains=value) | Q(city__icontains=value))

    def filter_insurance(self, queryset, name, value):
        return queryset.filter(**{INSURANCE_FLAG[InsuranceType(value)]: True})

    def filter_specialty(self, queryset, name, value):
        return queryset.filter(Exists(Doctor.objects.filter(practice=OuterRef("pk"), specialty__slug=value)))


class PracticeViewSet(PublicReadOnly):
    serializer_class = s.PracticeSerializer
    filterset_class = PracticeFilter
    queryset = Practice.objects.filter(is_active=True).order_by("name", "pk")


class DoctorFilter(django_filters.FilterSet):
    practice = django_filters.UUIDFilter(field_name="practice__public_id")
    specialty = django_filters.CharFilter(field_name="specialty__slug")

    class Meta:
        model = Doctor
        fields = ["practice", "specialty"]


class DoctorViewSet(PublicReadOnly):
    serializer_class = s.DoctorSerializer
    filterset_class = DoctorFilter
    queryset = (
        Doctor.objects.filter(verification_status=Doctor.Verification.VERIFIED, practice__is_active=True)
        .select_related("practice", "specialty")
        .order_by("name", "pk")
    )


class VisitReasonFilter(django_filters.FilterSet):
    practice = django_filters.UUIDFilter(field_name="practice__public_id")

    class Meta:
        model = VisitReason
        fields = ["practice"]


class VisitReasonViewSet(PublicReadOnly):
    serializer_class = s.VisitReasonSerializer
    filterset_class = VisitReasonFilter
    queryset = (
        VisitReason.objects.filter(is_active=True, practice__is_active=True)
        .select_related("practice")
        .order_by("name", "pk")
    )


class FreeSlotFilter(django_filters.FilterSet):
    """The filters of `selectors.slots_free`; an unknown id matches nothing."""

    practice = django_filters.UUIDFilter(method="keep")
    doctor = django_filters.UUIDFilter(method="keep")
    specialty = django_filters.CharFilter(method="keep")
    city = django_filters.CharFilter(method="keep")
    postal_code = django_filters.CharFilter(method="keep")
    insurance = django_filters.ChoiceFilter(choices=InsuranceType.choices, method="keep")
    visit_reason = django_filters.UUIDFilter(method="keep")
    new_patient = django_filters.BooleanFilter(method="keep")
    date_from = django_filters.DateFilter(method="keep")
    date_until = django_filters.DateFilter(method="keep")

    class Meta:
        model = Slot
        fields: list[str] = []

    def keep(self, queryset, name, value):
        return queryset

    def filter_queryset(self, queryset):
        data = self.form.cleaned_data
        lookups = {
            "practice": (Practice.objects, "public_id"),
            "doctor": (Doctor.objects, "public_id"),
            "specialty": (Specialty.objects, "slug"),
            "visit_reason": (VisitReason.objects, "public_id"),
        }
        kwargs = {}
        for name, (manager, field) in lookups.items():
            if data.get(name):
                found = manager.filter(**{field: data[name]}).first()
                if found is None:
                    return queryset.none()
                kwargs[name] = found
        return slots_free(
            city=data.get("city") or "",
            postal_code=data.get("postal_code") or "",
            insurance_type=data.get("insurance") or "",
            new_patient=bool(data.get("new_patient")),
            date_from=data.get("date_from"),
            date_until=data.get("date_until"),
            **kwargs,
        )


class FreeSlotViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.AllowAny]
    serializer_class = s.SlotSerializer
    filterset_class = FreeSlotFilter
    queryset = Slot.objects.all()  # replaced by slots_free in the filter


# --- The patient's own -------------------------------------------------------------------


class BookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.BookingSerializer
    queryset = Booking.objects.none()  # for the schema; get_queryset answers per user
    lookup_field = "public_id"
    throttle_scope = "booking_create"

    def get_queryset(self):
        return bookings_for_patient(patient=self.request.user).order_by("starts_at", "pk")

    def get_throttles(self):
        return [ScopedRateThrottle()] if self.action == "create" else []

    @extend_schema(request=s.BookingCreateSerializer, responses={201: s.BookingSerializer})
    def create(self, request):
        """Book a slot. An `Idempotency-Key` header makes a retry return the same booking."""
        data = s.BookingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking = booking_create(
            patient=request.user,
            slot=data.validated_data["slot"],
            visit_reason=data.validated_data["visit_reason"],
            insurance_type=data.validated_data["insurance_type"],
            new_patient=data.validated_data["new_patient"],
            note=data.validated_data["note"],
            idempotency_key=request.headers.get("Idempotency-Key", ""),
        )
        booking = self.get_queryset().get(pk=booking.pk)
        return Response(s.BookingSerializer(booking).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.BookingSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        booking = self.get_object()
        booking_cancel(booking=booking, cancelled_by=Booking.CancelledBy.PATIENT, actor=request.user)
        return Response(s.BookingSerializer(self.get_queryset().get(pk=booking.pk)).data)


class SlotAlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.SlotAlertSerializer
    queryset = SlotAlert.objects.none()  # for the schema; get_queryset answers per user
    lookup_field = "public_id"

    def get_queryset(self):
        if self.action == "list":
            return slot_alerts_for_patient(patient=self.request.user).order_by("date_from", "created_at", "pk")
        return SlotAlert.objects.filter(patient=self.request.user).select_related(
            "doctor", "practice", "specialty", "visit_reason"
        )

    @extend_schema(request=s.SlotAlertCreateSerializer, responses={201: s.SlotAlertSerializer})
    def create(self, request):
        data = s.SlotAlertCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        alert = slot_alert_create(
            patient=request.user,
            insurance_type=data.validated_data["insurance_type"],
            date_from=data.validated_data["date_from"],
            date_until=data.validated_data["date_until"],
            doctor=data.validated_data.get("doctor"),
            specialty=data.validated_data.get("specialty"),
            visit_reason=data.validated_data.get("visit_reason"),
        )
        return Response(s.SlotAlertSerializer(alert).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: s.SlotAlertSerializer})
    @action(detail=True, methods=["post"])
    def end(self, request, public_id=None):
        alert = slot_alert_end(alert=self.get_object(), patient=request.user)
        return Response(s.SlotAlertSerializer(alert).data)


class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses={200: s.MeSerializer})
    def get(self, request):
        user = request.user
        memberships = Membership.objects.filter(user=user).select_related("practice").order_by("pk")
        return Response(
            s.MeSerializer(
                {
                    "email": user.email,
                    "full_name": user.full_name,
                    "is_platform_admin": is_platform_admin(user),
                    "memberships": memberships,
                }
            ).data
        )


# --- Practice staff ----------------------------------------------------------------------


class PracticeBookingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The bookings of the practices the user is a member of (all for a platform admin)."""

    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.PracticeBookingSerializer
    queryset = Booking.objects.none()  # for the schema; get_queryset answers per user
    lookup_field = "public_id"

    def get_queryset(self):
        bookings = Booking.objects.select_related(
            "doctor__practice", "visit_reason", "patient"
        ).order_by("starts_at", "pk")
        return scope_queryset(bookings, self.request.user, "doctor__practice")

    @extend_schema(request=s.CancelSerializer, responses={200: s.PracticeBookingSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request, public_id=None):
        booking = self.get_object()
        data = s.CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        booking_cancel(
            booking=booking,
            cancelled_by=Booking.CancelledBy.PRACTICE,
            actor=request.user,
            reason=data.validated_data["reason"],
        )
        return Response(self.get_serializer(self.get_queryset().get(pk=booking.pk)).data)


class PracticeSlotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = s.SlotSerializer
    queryset = Slot.objects.none()  # for the schema; get_queryset answers per user
    lookup_field = "public_id"

    def get_queryset(self):
        slots = Slot.objects.select_related("doctor__practice").order_by("starts_at", "pk")
        return scope_queryset(slots, self.request.user, "doctor__practice")


# --- Auth: JWT bearer tokens, throttled like a login form --------------------------------


class AuthThrottled:
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "auth"


class TokenObtainView(AuthThrottled, TokenObtainPairView):
    pass


class TokenRefreshView(AuthThrottled, jwt_views.TokenRefreshView):
    pass


class TokenVerifyView(AuthThrottled, jwt_views.TokenVerifyView):
    pass
