"""Signals of the bookings core. Consumers (notifications, calendars) subscribe; the core never
imports them. Booking changes are announced by Django's post_save (services save rows one at a
time); bulk work that sends no post_save announces itself here."""

from django.dispatch import Signal

# New free slots were created for one doctor between two instants.
# Arguments: doctor_id (int), starts_from (aware datetime), starts_until (aware datetime).
slots_created = Signal()
