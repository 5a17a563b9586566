"""URLs of the API under /api/: the routers, JWT auth, the OpenAPI schema and Swagger UI."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import SimpleRouter

from . import api

app_name = "api"

router = SimpleRouter()
router.register("practices", api.PracticeViewSet, basename="practice")
router.register("doctors", api.DoctorViewSet, basename="doctor")
router.register("visit-reasons", api.VisitReasonViewSet, basename="visit-reason")
router.register("slots", api.FreeSlotViewSet, basename="slot")
router.register("bookings", api.BookingViewSet, basename="booking")
router.register("slot-alerts", api.SlotAlertViewSet, basename="slot-alert")
router.register("practice/bookings", api.PracticeBookingViewSet, basename="practice-booking")
router.register("practice/slots", api.PracticeSlotViewSet, basename="practice-slot")

urlpatterns = [
    path("auth/token/", api.TokenObtainView.as_view(), name="token-obtain"),
    path("auth/token/refresh/", api.TokenRefreshView.as_view(), name="token-refresh"),
    path("auth/token/verify/", api.TokenVerifyView.as_view(), name="token-verify"),
    path("me/", api.MeView.as_view(), name="me"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    *router.urls,
]
