from django.contrib import admin
from django.urls import path
from django.views.generic import TemplateView

from .views import healthz

admin.site.site_header = "Terminfinder"
admin.site.site_title = "Terminfinder"
admin.site.index_title = "Terminfinder"

urlpatterns = [
    path("", TemplateView.as_view(template_name="home.html"), name="home"),
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
]
