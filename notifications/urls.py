from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("alerts/unsubscribe/<str:token>/", views.alert_unsubscribe, name="alert-unsubscribe"),
]
