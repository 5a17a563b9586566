from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path, re_path

from bookings import api_urls as bookings_api_urls
from bookings import views as bookings_views
from bookings.api_errors import api_not_found
from chatbot import api_urls as chatbot_api_urls
from notifications.views import queues_view

from .views import healthz, set_language

admin.site.site_header = "Terminfinder"
admin.site.site_title = "Terminfinder"
admin.site.index_title = "Terminfinder"
# One login for everyone: the admin's own form would bypass allauth's rate limits, email
# verification and MFA.
admin.site.login = secure_admin_login(admin.site.login)

urlpatterns = [
    path("", bookings_views.home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("sprache/", set_language, name="set_language"),
    path("accounts/", include("allauth.urls")),
    # One API, one namespace: each app contributes its endpoints.
    path("api/", include((bookings_api_urls.urlpatterns + chatbot_api_urls.urlpatterns, "api"))),
    re_path(r"^api/", api_not_found),
    path("admin/queues/", admin.site.admin_view(queues_view), name="admin-queues"),
    path("admin/", admin.site.urls),
    path("", include("notifications.urls")),
    path("", include("calendars.urls")),
    path("", include("chatbot.urls")),
    path("", include("practices.urls")),
    path("", include("bookings.urls")),
]
