"""Typed booking errors. Views and the API map them by `http_status`; the message is for people."""

from django.utils.translation import gettext_lazy as _


class BookingError(Exception):
    http_status = 400
    code = "booking_error"
    default_message = _("The booking could not be completed.")

    def __init__(self, message=None):
        self.message = message or self.default_message
        super().__init__(str(self.message))


class SlotTaken(BookingError):
    """Someone else holds this slot (or an overlapping time of the same doctor)."""

    http_status = 409
    code = "slot_taken"
    default_message = _("This appointment has just been taken. Please choose another time.")


class BookingClosed(BookingError):
    """The time for this action has passed, or the slot cannot be booked at all any more."""

    http_status = 400
    code = "booking_closed"
    default_message = _("This appointment can no longer be booked or changed online.")


class InvalidBooking(BookingError):
    """The request does not fit the slot: visit reason, insurance or new-patient rules."""

    http_status = 400
    code = "invalid_booking"
    default_message = _("This appointment does not fit the chosen visit reason or insurance.")


class BookingNotAllowed(BookingError):
    """The acting user may not do this to this booking."""

    http_status = 403
    code = "not_allowed"
    default_message = _("You are not allowed to do this.")
