from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from .events import feed_ics
from .selectors import feed_bookings, feed_by_token_hash
from .services import feed_token_hash


@require_safe
def feed(request, token: str):
    """A doctor's bookings as a subscribable calendar (https:// or webcal://, same path).

    The token is the only key: no login, no personal data in the URL; unknown or revoked → 404.
    """
    found = feed_by_token_hash(token_hash=feed_token_hash(token)) if len(token) <= 100 else None
    if found is None:
        raise Http404
    response = HttpResponse(
        feed_ics(doctor=found.doctor, bookings=feed_bookings(feed=found)),
        content_type="text/calendar; charset=utf-8",
    )
    response["Cache-Control"] = "private, max-age=300"
    response["Content-Disposition"] = 'inline; filename="terminfinder.ics"'
    return response
