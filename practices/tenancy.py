"""Who may see which practice: the one place that answers it for admin, API and views.

A platform admin is an active superuser and sees every practice. Anyone else sees exactly the
practices they hold a Membership in; an object of any other practice does not exist for them
(404, never 403, so its existence does not leak).
"""

from __future__ import annotations

from django.db.models import Model, QuerySet
from django.http import Http404

from .models import Membership, Practice


def is_platform_admin(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser)


def member_roles(user) -> dict[int, str]:
    """Practice id → role for the user's memberships, cached on the user object per request."""
    if not (user and user.is_authenticated and user.is_active):
        return {}
    cached = getattr(user, "_practice_roles", None)
    if cached is None:
        cached = dict(Membership.objects.filter(user=user).values_list("practice_id", "role"))
        user._practice_roles = cached
    return cached


def practice_ids_for(user) -> list[int]:
    return sorted(member_roles(user))


def practices_for(user) -> QuerySet[Practice]:
    if is_platform_admin(user):
        return Practice.objects.all()
    return Practice.objects.filter(pk__in=practice_ids_for(user))


def has_role(user, practice_id: int, roles: set[str]) -> bool:
    return member_roles(user).get(practice_id) in roles


def scope_queryset(queryset: QuerySet, user, practice_path: str) -> QuerySet:
    """Limit a queryset to the user's practices; `practice_path` leads from the model to Practice."""
    if is_platform_admin(user):
        return queryset
    ids = practice_ids_for(user)
    if not ids:
        return queryset.none()
    lookup = "pk__in" if practice_path == "" else f"{practice_path}__in"
    return queryset.filter(**{lookup: ids})


def practice_of(obj: Model, practice_path: str) -> Practice | None:
    """Follow `practice_path` (Django lookup syntax) from an object to its Practice."""
    current = obj
    if practice_path:
        for part in practice_path.split("__"):
            current = getattr(current, part, None)
            if current is None:
                return None
    return current


def get_for_user_or_404(queryset: QuerySet, user, practice_path: str, **lookup) -> Model:
    try:
        return scope_queryset(queryset, user, practice_path).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404 from None
