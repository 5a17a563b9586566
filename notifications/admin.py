from django.contrib import admin
from django_dramatiq.models import Task

from practices.admin_scoping import PlatformAdmin

from .models import Delivery

# django-dramatiq's task log is not used (its AdminMiddleware is off): the queues page and
# the delivery records show what happened.
if admin.site.is_registered(Task):
    admin.site.unregister(Task)


@admin.register(Delivery)
class DeliveryAdmin(PlatformAdmin):
    list_display = ("kind", "object_ref", "recipient_ref", "status", "attempts", "sent_at", "last_error")
    list_filter = ("kind", "status")
    search_fields = ("object_ref",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
