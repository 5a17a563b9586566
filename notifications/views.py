from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from redis.exceptions import RedisError

from bookings.models import SlotAlert
from bookings.services import slot_alert_end
from practices.tenancy import is_platform_admin

from . import monitoring
from .tasks import UNSUBSCRIBE_SALT

UNSUBSCRIBE_MAX_AGE = 60 * 60 * 24 * 365


def queues_view(request):
    """Queue depths, worker heartbeat, outbox backlog and dead letters (platform admins)."""
    if not is_platform_admin(request.user):
        raise PermissionDenied
    if request.method == "POST":
        action = request.POST.get("action")
        queue = request.POST.get("queue", "")
        message_id = request.POST.get("message_id", "")
        try:
            if action == "requeue" and monitoring.dead_letter_requeue(queue, message_id):
                messages.success(request, _("The message was put back on its queue."))
            elif action == "discard" and monitoring.dead_letter_discard(queue, message_id):
                messages.success(request, _("The message was discarded."))
            else:
                messages.error(request, _("That message is no longer among the dead letters."))
        except RedisError:
            messages.error(request, _("Redis cannot be reached right now. Try again shortly."))
        return redirect("admin-queues")
    context = {**admin.site.each_context(request), "title": _("Queues")}
    try:
        context.update(monitoring.overview())
    except RedisError:
        context["redis_down"] = True
        from terminfinder.outbox.services import outbox_backlog

        context["outbox"] = outbox_backlog()
    return render(request, "admin/queues.html", context)


# The signed token is the authorisation; mail clients post one-click unsubscribes without a
# CSRF token (RFC 8058).
@csrf_exempt
@require_http_methods(["GET", "POST"])
def alert_unsubscribe(request, token: str):
    """The signed link in every alert email: works without logging in. GET asks, POST ends
    (mail scanners follow links; one-click unsubscribe per RFC 8058 posts)."""
    try:
        public_id = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        alert = SlotAlert.objects.get(public_id=public_id)
    except (signing.BadSignature, SlotAlert.DoesNotExist, ValueError):
        return render(request, "notifications/unsubscribe.html", {"invalid": True}, status=404)
    if request.method == "POST":
        slot_alert_end(alert=alert, signed_link=True)
        return render(request, "notifications/unsubscribe.html", {"done": True})
    return render(request, "notifications/unsubscribe.html", {"alert": alert})
