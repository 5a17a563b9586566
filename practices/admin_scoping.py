"""Admin classes that show practice staff their own practice only.

Every tenant ModelAdmin names `practice_path`, the lookup from its model to Practice. From that
one attribute follow the scoped changelist, search and autocomplete (all built on
get_queryset), the scoped choices of every foreign key and many-to-many field, the role checks
and the 404 for another practice's object.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404

from .models import Doctor, FAQEntry, Membership, OpeningHours, Practice, VisitReason
from .tenancy import has_role, is_platform_admin, member_roles, practice_of, scope_queryset

OWNER = Membership.Role.OWNER
STAFF = Membership.Role.STAFF
DOCTOR = Membership.Role.DOCTOR

# Model → lookup path to Practice, for scoping foreign-key choices in any admin form.
# Other apps register their tenant models here (see bookings/admin.py).
TENANT_PATHS: dict[type, str] = {
    Practice: "",
    Doctor: "practice",
    VisitReason: "practice",
    FAQEntry: "practice",
    OpeningHours: "practice",
    Membership: "practice",
}


def register_tenant_model(model: type, practice_path: str) -> None:
    TENANT_PATHS[model] = practice_path


class RoleChecks:
    """Permission checks by membership role instead of Django's per-model permissions."""

    practice_path = ""
    view_roles: frozenset[str] = frozenset({OWNER, STAFF, DOCTOR})
    write_roles: frozenset[str] = frozenset({OWNER, STAFF})
    add_roles: frozenset[str] | None = None  # defaults to write_roles
    delete_roles: frozenset[str] | None = None  # defaults to write_roles

    def _allowed(self, request, roles, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if is_platform_admin(user):
            return True
        if obj is None:
            return any(role in roles for role in member_roles(user).values())
        practice = practice_of(obj, self.practice_path)
        return practice is not None and has_role(user, practice.pk, set(roles))

    def has_module_permission(self, request):
        return self._allowed(request, self.view_roles | self.write_roles)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request, self.view_roles | self.write_roles, obj)

    def has_change_permission(self, request, obj=None):
        return self._allowed(request, self.write_roles, obj)

    def has_delete_permission(self, request, obj=None):
        roles = self.write_roles if self.delete_roles is None else self.delete_roles
        return self._allowed(request, roles, obj)


class ScopedFormFields:
    def _scope_field(self, request, db_field, kwargs):
        related = db_field.remote_field.model
        if related in TENANT_PATHS and "queryset" not in kwargs:
            kwargs["queryset"] = scope_queryset(
                related._default_manager.all(), request.user, TENANT_PATHS[related]
            )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._scope_field(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._scope_field(request, db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TenantAdmin(RoleChecks, ScopedFormFields, admin.ModelAdmin):
    list_per_page = 50

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request.user, self.practice_path)

    def has_add_permission(self, request):
        roles = self.write_roles if self.add_roles is None else self.add_roles
        return self._allowed(request, roles)

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # Django redirects to the index with a message; another practice's object must simply
        # not exist (404), the same answer as for an id that never existed.
        raise Http404

    def _require_visible(self, request, object_id):
        if object_id is not None and self.get_object(request, unquote(object_id)) is None:
            raise Http404

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._require_visible(request, object_id)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def delete_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().delete_view(request, object_id, extra_context)

    def history_view(self, request, object_id, extra_context=None):
        self._require_visible(request, object_id)
        return super().history_view(request, object_id, extra_context)

    def save_model(self, request, obj, form, change):
        # Forms only offer the user's practices; this guards any path around the form.
        if not self._allowed(request, self.write_roles, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)


class TenantInline(RoleChecks, ScopedFormFields):
    """Inline whose permissions follow the parent object's practice."""

    def has_add_permission(self, request, obj=None):
        return self._allowed(request, self.write_roles, obj)


class PlatformAdmin(admin.ModelAdmin):
    """For platform data (specialties, alerts across practices): platform admins only."""

    def _platform(self, request) -> bool:
        return is_platform_admin(request.user) and request.user.is_staff

    def has_module_permission(self, request):
        return self._platform(request)

    def has_view_permission(self, request, obj=None):
        return self._platform(request)

    def has_add_permission(self, request):
        return self._platform(request)

    def has_change_permission(self, request, obj=None):
        return self._platform(request)

    def has_delete_permission(self, request, obj=None):
        return self._platform(request)
