"""Plain-text parts and subjects are not HTML: a practice called "O'Neil & Partner" stays so."""

from django.utils import timezone

from notifications.emails import render_email


def test_it_keeps_ampersands_and_apostrophes_raw_in_text_and_subject_but_escapes_html(world):
    practice = world.a.practice
    practice.name = "O'Neil & Partner"
    booking = world.a.booking
    context = {
        "booking": booking,
        "practice": practice,
        "doctor": booking.doctor,
        "starts_at": timezone.localtime(booking.starts_at),
        "ends_at": timezone.localtime(booking.ends_at),
        "code": booking.code,
    }
    for language in ("de", "en"):
        subject, text, html = render_email("booking_confirmation", context, language)
        assert "O'Neil & Partner" in subject
        assert "O'Neil & Partner" in text
        assert "&amp;" not in text and "&#x27;" not in text
        assert "O&#x27;Neil &amp; Partner" in html
