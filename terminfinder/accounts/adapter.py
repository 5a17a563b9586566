"""allauth adapter: a new account takes the language the visitor was browsing in, and a login
switches the pages to the language saved in the account."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.utils import translation

from .models import User


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request, user, form, commit=True):
        language = translation.get_language() or ""
        if language[:2] in User.Language.values:
            user.language = language[:2]
        return super().save_user(request, user, form, commit=commit)

    def post_login(self, request, user, **kwargs):
        response = super().post_login(request, user, **kwargs)
        if getattr(user, "language", "") in User.Language.values and hasattr(response, "set_cookie"):
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                user.language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
