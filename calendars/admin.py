from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from practices.admin_scoping import TenantAdmin, TenantInline, register_tenant_model
from terminfinder.outbox.services import outbox_dispatch

from . import tasks
from .addresses import address_problem
from .models import CalendarConnection, CalendarFeed, PushedEvent
from .services import connection_changed, connection_delete, connection_set_secret, connection_test, feed_create, feed_revoke

register_tenant_model(CalendarConnection, "doctor__practice")
register_tenant_model(CalendarFeed, "doctor__practice")

TEST_LIMIT = 3  # connections tested in one request, each with a short timeout


class CalendarConnectionForm(forms.ModelForm):
    url = forms.URLField(
        label=_("calendar URL"),
        max_length=1000,
        assume_scheme="https",
        help_text=_("The address of the calendar collection (CalDAV) or of the published ICS file."),
    )
    secret = forms.CharField(
        label=_("password or token"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_(
            "Write-only: it is stored encrypted and never shown again. Leave empty to keep the "
            "stored one. iCloud: an app-specific password; Google: the OAuth refresh token."
        ),
    )

    class Meta:
        model = CalendarConnection
        fields = ("doctor", "provider", "url", "username", "secret", "direction", "is_active")

    def clean_url(self):
        url = self.cleaned_data["url"]
        if "@" in url.split("//", 1)[-1].split("/", 1)[0]:
            raise forms.ValidationError(_("Put the user name and password in their own fields, not in the address."))
        problem = address_problem(url)
        if problem:
            raise forms.ValidationError(problem)
        return url

    def clean(self):
        cleaned = super().clean()
        provider = cleaned.get("provider")
        if provider == CalendarConnection.Provider.ICS and cleaned.get("direction") != CalendarConnection.Direction.PULL:
            self.add_error("direction", _("A published ICS calendar can only be read. Use the feed to export bookings."))
        return cleaned


class PushedEventInline(TenantInline, admin.TabularInline):
    model = PushedEvent
    practice_path = "doctor__practice"  # from the parent connection, as the inline checks it
    fields = ("code", "starts_at", "state", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    max_num = 0
    verbose_name_plural = _("Events changed in the calendar (not overwritten)")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(state=PushedEvent.State.CONFLICT).select_related("booking")

    @admin.display(description=_("booking code"))
    def code(self, obj):
        return obj.booking.code

    @admin.display(description=_("start"))
    def starts_at(self, obj):
        return obj.booking.starts_at


@admin.register(CalendarConnection)
class CalendarConnectionAdmin(TenantAdmin):
    practice_path = "doctor__practice"
    form = CalendarConnectionForm
    list_display = ("doctor", "provider", "direction", "is_active", "status", "last_sync_at", "last_error")
    list_filter = ("status", "provider", ("doctor", admin.RelatedOnlyFieldListFilter))
    search_fields = ("doctor__name",)
    autocomplete_fields = ("doctor",)
    list_select_related = ("doctor",)
    readonly_fields = ("status", "last_sync_at", "last_error")
    inlines = [PushedEventInline]
    actions = ["test_connections", "sync_now", "overwrite_conflicts"]

    def get_fields(self, request, obj=None):
        return [*CalendarConnectionForm.Meta.fields, *self.readonly_fields]

    def save_model(self, request, obj, form, change):
        if not self._allowed(request, self.write_roles, obj):
            raise PermissionDenied
        previous = CalendarConnection.objects.get(pk=obj.pk) if change else None
        super().save_model(request, obj, form, change)
        if previous is not None:
            connection_changed(connection=obj, previous=previous)
        if form.cleaned_data.get("secret"):
            connection_set_secret(connection=obj, secret=form.cleaned_data["secret"])

    def delete_model(self, request, obj):
        connection_delete(connection=obj)

    def delete_queryset(self, request, queryset):
        for connection in queryset:
            connection_delete(connection=connection)

    @admin.action(description=_("Test connection"), permissions=["change"])
    def test_connections(self, request, queryset):
        for connection in queryset.select_related("doctor")[:TEST_LIMIT]:
            problem = connection_test(connection=connection)
            if problem:
                self.message_user(request, _("%(connection)s: failed (%(problem)s).") % {"connection": connection, "problem": problem}, messages.ERROR)
            else:
                self.message_user(request, _("%(connection)s: works.") % {"connection": connection}, messages.SUCCESS)

    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        count = 0
        for connection in queryset:
            if connection.pushes:
                outbox_dispatch(tasks.push_connection, connection.pk)
            if connection.pulls:
                outbox_dispatch(tasks.pull_connection, connection.pk)
            count += 1
        self.message_user(request, _("Sync started for %(count)d connection(s).") % {"count": count}, messages.SUCCESS)


    @admin.action(description=_("Overwrite events changed in the calendar with Terminfinder's version"), permissions=["change"])
    def overwrite_conflicts(self, request, queryset):
        for connection in queryset.filter(pushed_events__state=PushedEvent.State.CONFLICT).distinct():
            outbox_dispatch(tasks.resolve_conflicts, connection.pk)
        self.message_user(request, _("The changed events will be written again."), messages.SUCCESS)


class CalendarFeedForm(forms.ModelForm):
    class Meta:
        model = CalendarFeed
        fields = ("doctor",)


@admin.register(CalendarFeed)
class CalendarFeedAdmin(TenantAdmin):
    """Feeds are made and revoked, never edited; the secret URL is shown once, on creation."""

    practice_path = "doctor__practice"
    form = CalendarFeedForm
    list_display = ("doctor", "created_at", "revoked_at")
    list_filter = (("doctor", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("doctor__name",)
    autocomplete_fields = ("doctor",)
    list_select_related = ("doctor",)
    actions = ["revoke_feeds"]

    def get_readonly_fields(self, request, obj=None):
        return ("doctor", "created_at", "revoked_at") if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:
            return
        if not self._allowed(request, self.write_roles, obj):
            raise PermissionDenied
        feed, token = feed_create(doctor=obj.doctor)
        obj.pk, obj.token_hash, obj.created_at = feed.pk, feed.token_hash, feed.created_at
        path = reverse("calendars:feed", args=[token])
        base = settings.TERMINFINDER_BASE_URL
        webcal = "webcal://" + base.split("://", 1)[-1]
        self.message_user(
            request,
            _("Copy the feed address now, it is shown only once: %(url)s (or %(webcal)s). An earlier feed of this doctor stops working.")
            % {"url": base + path, "webcal": webcal + path},
            messages.WARNING,
        )

    @admin.action(description=_("Revoke selected feeds"), permissions=["change"])
    def revoke_feeds(self, request, queryset):
        for feed in queryset:
            feed_revoke(feed=feed)
        self.message_user(request, _("The feeds were revoked."), messages.SUCCESS)
