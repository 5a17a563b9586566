"""Platform admins see every practice's patients: with TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS
on, the admin stays closed to a superuser until they have set up TOTP (allauth.mfa)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class PlatformAdminMFAMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._must_set_up_mfa(request):
            messages.warning(
                request,
                _("Platform admins must set up two-factor authentication before using the admin."),
            )
            return redirect("mfa_activate_totp")
        return self.get_response(request)

    @staticmethod
    def _must_set_up_mfa(request) -> bool:
        if not getattr(settings, "TERMINFINDER_REQUIRE_MFA_FOR_PLATFORM_ADMINS", False):
            return False
        user = getattr(request, "user", None)
        if not (user and user.is_authenticated and user.is_superuser):
            return False
        if not request.path.startswith(reverse("admin:index")):
            return False
        from allauth.mfa.models import Authenticator

        return not Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.TOTP
        ).exists()
