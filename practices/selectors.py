"""Reads of practices for other apps (the chatbot): by public id, active only, with what a
visitor may see on the public practice page."""

from __future__ import annotations

from django.db.models import Prefetch

from .models import FAQEntry, OpeningHours, Practice


def practice_public_info(public_id) -> Practice | None:
    """The active practice with its FAQ entries and opening hours prefetched, or None."""
    return (
        Practice.objects.filter(public_id=public_id, is_active=True)
        .prefetch_related(
            Prefetch("faq_entries", queryset=FAQEntry.objects.order_by("position", "id")),
            Prefetch("opening_hours", queryset=OpeningHours.objects.order_by("weekday", "opens")),
        )
        .first()
    )


def practice_exists(public_id) -> bool:
    return Practice.objects.filter(public_id=public_id, is_active=True).exists()
