from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CalendarsConfig(AppConfig):
    name = "calendars"
    verbose_name = _("Calendar sync")

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401 - registers the system check and receivers
