import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _

from bookings.models import Booking
from practices.models import Doctor


class CalendarConnection(models.Model):
    """One doctor's external calendar: where bookings go (push) and busy time comes from (pull).

    The secret (password, app-specific password or OAuth tokens) is stored encrypted
    (calendars.crypto) and never shown again; `url` must not carry credentials.
    """

    class Provider(models.TextChoices):
        CALDAV = "caldav", _("CalDAV (Nextcloud, Radicale, other servers)")
        ICLOUD = "icloud", _("Apple iCloud (CalDAV, app-specific password)")
        GOOGLE = "google", _("Google Calendar (CalDAV, OAuth 2)")
        ICS = "ics", _("Published ICS calendar (Outlook / Microsoft 365), import only")

    class Direction(models.TextChoices):
        PUSH = "push", _("Bookings to the calendar")
        PULL = "pull", _("Busy time from the calendar")
        BOTH = "both", _("Both ways")

    class Status(models.TextChoices):
        NEW = "new", _("Not synced yet")
        OK = "ok", _("OK")
        RETRYING = "retrying", _("Unreachable, retrying")
        ERROR = "error", _("Error")
        CONFLICT = "conflict", _("Changed in the calendar")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="calendar_connections", verbose_name=_("doctor")
    )
    provider = models.CharField(_("provider"), max_length=20, choices=Provider.choices, default=Provider.CALDAV)
    url = models.URLField(
        _("calendar URL"),
        max_length=1000,
        help_text=_("The address of the calendar collection (CalDAV) or of the published ICS file."),
    )
    username = models.CharField(_("user name"), max_length=200, blank=True)
    secret_encrypted = models.TextField(blank=True, editable=False)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices, default=Direction.BOTH)
    is_active = models.BooleanField(_("active"), default=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.NEW, editable=False)
    last_sync_at = models.DateTimeField(_("last sync"), null=True, blank=True, editable=False)
    last_full_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.CharField(_("last error"), max_length=300, blank=True, editable=False)
    sync_token = models.TextField(blank=True, editable=False)
    # A pull claims the connection until then, so two pulls never race over the sync token.
    pull_lease_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["doctor", "pk"]
        verbose_name = _("calendar connection")
        verbose_name_plural = _("calendar connections")

    def __str__(self) -> str:
        return f"{self.doctor} · {self.get_provider_display()}"

    @property
    def pushes(self) -> bool:
        return (
            self.is_active
            and self.provider != self.Provider.ICS
            and self.direction in {self.Direction.PUSH, self.Direction.BOTH}
        )

    @property
    def pulls(self) -> bool:
        return self.is_active and self.direction in {self.Direction.PULL, self.Direction.BOTH}

    @property
    def block_prefix(self) -> str:
        """Every busy block this connection imported has a source_ref starting with this."""
        return f"cal:{self.pk}:"


class PushedEvent(models.Model):
    """What we wrote to a connection for one booking: where, and the ETag we saw last, so an
    update is made only if nobody changed the event since (If-Match) and a re-run never
    creates a second one."""

    class State(models.TextChoices):
        SYNCED = "synced", _("In the calendar")
        DELETED = "deleted", _("Removed from the calendar")
        CONFLICT = "conflict", _("Changed in the calendar, not overwritten")

    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="pushed_events", verbose_name=_("connection")
    )
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, related_name="pushed_events", verbose_name=_("booking")
    )
    href = models.CharField(max_length=1000, blank=True)
    etag = models.CharField(max_length=300, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.SYNCED)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("pushed event")
        verbose_name_plural = _("pushed events")
        constraints = [
            models.UniqueConstraint(fields=["connection", "booking"], name="pushed_event_once_per_connection")
        ]

    def __str__(self) -> str:
        return f"{self.booking.code} · {self.get_state_display()}"


class CalendarFeed(models.Model):
    """A doctor's subscribable ICS feed. Only a hash of its secret token is stored: the URL is
    shown once, when the feed is made; revoking it makes the URL answer 404."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    doctor = models.ForeignKey(
        Doctor, on_delete=models.CASCADE, related_name="calendar_feeds", verbose_name=_("doctor")
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["doctor", "-created_at"]
        verbose_name = _("calendar feed")
        verbose_name_plural = _("calendar feeds")

    def __str__(self) -> str:
        return f"{self.doctor} · {self.created_at:%Y-%m-%d}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
