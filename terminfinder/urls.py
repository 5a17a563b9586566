from django.contrib import admin
from django.urls import include, path
from django.views.generic import TemplateView

from notifications.views import queues_view

from .views import healthz

admin.site.site_header = "Terminfinder"
admin.site.site_title = "Terminfinder"
admin.site.index_title = "Terminfinder"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/queues/", admin.site.admin_view(queues_view), name="admin-queues"),
    path("admin/", admin.site.urls),
    path("", include("notifications.urls")),
]
